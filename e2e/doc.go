//go:build e2e

// Package e2e holds the end-to-end fault tests of cairn: they run from the
// host against the Docker demo cluster of scripts/docker-compose.yml
// (`make demo`: node1..node4 in the ring, node5 outside, HTTP on
// 127.0.0.1:28098..28102) and inject real faults with the docker CLI:
// network disconnect and connect, kill -s KILL and start, pause and
// unpause; and splits of the cluster network, with blackhole routes added
// inside the containers' network namespaces (nsenter and ip, as root),
// which leave the host's published ports reachable on both sides. `make e2e` builds the image, starts a fresh cluster, runs them
// and removes the cluster.
//
// # What is checked
//
// The set workload, Jepsen-style: concurrent clients add unique elements
// ("c<client>-<n>") to sets kept as JSON arrays in a handful of keys, with
// client.Update and a Resolver that unions siblings, while faults come and
// go on a schedule. After the faults heal and the cluster converges (every
// key reads with r=all, and the union of its siblings is the same on two
// polls in a row), every acknowledged element must be present (no lost
// writes) and every element present must have been attempted (no
// phantoms). Siblings left and the time to converge are reported.
//
// The strong workload: clients increment counters in a strongly
// consistent bucket type with client.Update (a compare-and-set on the
// context) and read them, during a fault; the history must be
// linearizable for a counter model (porcupine).
//
// The files carry the build tag e2e, so `go test ./...` skips them:
//
//	go test -tags e2e -count=1 -v ./e2e/
package e2e
