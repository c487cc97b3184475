# cairn:dev — the cairn server and cairnctl in an image with nothing else.
#
# No base image is pulled: the binaries are static (CGO_ENABLED=0) and built
# on the host, so build with `make docker`, which builds bin/cairn and
# bin/cairnctl, creates the empty build/docker/data and runs
# `docker build -t cairn:dev .`.
#
#   docker run --rm -p 127.0.0.1:8098:8098 cairn:dev     # one node, its own one-voter cluster
#
# The listeners bind every interface (CAIRN_*_ADDR below). A node of a
# multi-node cluster also needs the addresses the others reach it at:
# --http-advertise, --rpc-advertise, --raft-advertise and --gossip-advertise
# (an IP address), as scripts/docker-compose.yml sets them.
FROM scratch

# A user to run as: no process in the image runs as root.
COPY build/docker/etc/passwd build/docker/etc/group /etc/
# /data must exist, owned by that user, before a volume is mounted on it:
# an empty named volume takes the ownership of the directory it covers.
COPY --chown=10001:10001 build/docker/data/ /data/
COPY bin/cairn bin/cairnctl /

ENV CAIRN_DATA_DIR=/data \
    CAIRN_HTTP_ADDR=0.0.0.0:8098 \
    CAIRN_RPC_ADDR=0.0.0.0:8099 \
    CAIRN_RAFT_ADDR=0.0.0.0:8300 \
    CAIRN_GOSSIP_ADDR=0.0.0.0:7946 \
    CAIRN_NODE=127.0.0.1:8098

USER 10001:10001
VOLUME /data
# HTTP API, internal RPC, gossip (memberlist: TCP and UDP), Raft.
EXPOSE 8098/tcp 8099/tcp 7946/tcp 7946/udp 8300/tcp

# There is no shell: the check is cairnctl itself. member-status answers
# once the node's HTTP API and its copy of the metadata plane serve.
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 \
    CMD ["/cairnctl", "--node", "127.0.0.1:8098", "--timeout", "2s", "member-status"]

ENTRYPOINT ["/cairn"]
# Without arguments: a cluster of its own, as `make run`. Compose passes
# --bootstrap or --join and the advertised addresses instead.
CMD ["--bootstrap", "--voters", "1"]
