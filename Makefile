# cairn — build, run and test. `make run` and `make test` are all a newcomer needs.
GO        ?= go
BIN       ?= bin
DATA_DIR  ?= ./data
HTTP_ADDR ?= 127.0.0.1:8098
SYNC      ?= interval
FUZZTIME  ?= 5s
BENCHTIME ?= 2s

.PHONY: build run test unit fuzz lint bench bench-wrk bench-matrix bench-micro clean

build:
	CGO_ENABLED=0 $(GO) build -o $(BIN)/cairn ./cmd/cairn
	CGO_ENABLED=0 $(GO) build -o $(BIN)/cairnctl ./cmd/cairnctl

## run: start one node with its data in ./data (Ctrl-C stops it cleanly)
run: build
	$(BIN)/cairn --data-dir $(DATA_DIR) --http-addr $(HTTP_ADDR) --sync $(SYNC) --bootstrap --voters 1

## test: the whole suite with the race detector (the simulation without it), then every fuzz target briefly
test: unit fuzz

unit:
	$(GO) test -race -count=1 -timeout 30m ./...
	$(GO) test -count=1 -timeout 15m ./node/sim/

fuzz:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## bench: YCSB workloads A, B and C on a local 3-node cluster (100k records, 16 clients, 100-byte values), one table
bench:
	./scripts/bench.sh

## bench-wrk: PUT and GET throughput of a local 3-node cluster under wrk (a C load generator), with CPU per request
bench-wrk:
	./scripts/bench-wrk.sh

## bench-matrix: workload A with each mechanism off and each sync policy, ratios against the default configuration
bench-matrix:
	./scripts/bench-matrix.sh

## bench-micro: Go benchmarks of the hot paths (-short: the multi-process ones are bench-cluster and bench-aae)
bench-micro:
	$(GO) test -short -run='^$$' -bench=. -benchmem -benchtime=$(BENCHTIME) ./...

## cluster-up: start a local 3-node cluster on loopback (HTTP 127.0.0.1:18098-18100; data and logs in ./.cluster)
cluster-up:
	./scripts/cluster.sh up 3

## cluster-down: stop the local cluster and remove ./.cluster
cluster-down:
	./scripts/cluster.sh down

## bench-cluster: throughput and latency of a 3-process cluster, healthy and with a node stopped
bench-cluster:
	$(GO) test -run '^$$' -bench BenchmarkCluster3 -benchtime 1x ./cmd/cairn/

## bench-aae: anti-entropy on 1M keys: mixed throughput with it on and off, time to repair 1,000 keys, tree memory
bench-aae:
	$(GO) test -run '^$$' -bench BenchmarkAAE -benchtime 1x -timeout 60m ./cmd/cairn/

## bench-memory: RAM per stored key of one node (Go heap, RSS, Badger's caches) at 1M, 2M, 5M and 10M keys (MEM_KEYS to change; about 15 minutes)
MEM_KEYS ?= 1000000,2000000,5000000,10000000
bench-memory:
	CAIRN_MEM_KEYS=$(MEM_KEYS) $(GO) test -run '^$$' -bench BenchmarkMemoryPerKey -benchtime 1x -timeout 40m ./node/

.PHONY: cluster-up cluster-down bench-cluster bench-aae bench-memory

clean:
	rm -rf $(BIN)

## docker: static bin/cairn and bin/cairnctl, then the image cairn:dev (FROM scratch: nothing is pulled)
docker: build
	mkdir -p build/docker/data
	docker build -t cairn:dev .

## demo: five cairn containers (scripts/docker-compose.yml), ring committed; then try scripts/demo.sh
demo:
	./scripts/demo-cluster.sh up

## demo-down: stop the demo cluster and delete its volumes
demo-down:
	./scripts/demo-cluster.sh down

.PHONY: docker demo demo-down

## e2e: fresh demo cluster, then the fault tests of ./e2e (partition, kill -9, pause; lost writes, linearizability); removes the cluster after, even on failure
e2e: docker
	$(MAKE) demo-down
	@start=$$(date +%s); rc=0; \
	{ $(MAKE) demo && $(GO) test -tags e2e -count=1 -timeout 15m -v ./e2e/; } || rc=$$?; \
	$(MAKE) demo-down || true; \
	echo "make e2e: exit $$rc after $$(( $$(date +%s) - start ))s (image build not counted)"; \
	exit $$rc

.PHONY: e2e

## sim: the deterministic simulation. `make sim` runs SIM_SEEDS seeds (1000) of the AP simulation, then
## SIM_STRONG_SEEDS seeds (1000) of the strong-keyspace one, in the foreground; `make sim SEEDS=100000` runs that
## many AP seeds and STRONG_SEEDS (as many) strong seeds in the background, side by side (logs in .sim/);
## `make sim SEED=n` replays one AP seed, `make sim STRONG_SEED=n` one strong seed (its faults and workload,
## not Raft's timing)
SIM_SEEDS ?= 1000
SIM_STRONG_SEEDS ?= 1000
sim:
	@if [ -n "$(SEED)" ]; then \
		SIM_SEED=$(SEED) $(GO) test -count=1 -timeout 0 -run '^TestSeeds$$' -v ./node/sim/; \
	elif [ -n "$(STRONG_SEED)" ]; then \
		SIM_STRONG_SEED=$(STRONG_SEED) $(GO) test -count=1 -timeout 0 -run '^TestStrongSeeds$$' -v ./node/sim/; \
	elif [ -n "$(SEEDS)" ]; then \
		mkdir -p .sim; stamp=$$(date +%Y%m%d-%H%M%S); strong=$${STRONG_SEEDS:-$(SEEDS)}; \
		log=.sim/seeds-$(SEEDS)-$$stamp.log; slog=.sim/strong-$$strong-$$stamp.log; \
		SIM_SEEDS=$(SEEDS) SIM_FIRST=$${SIM_FIRST:-1} nohup $(GO) test -count=1 -timeout 0 -run '^TestSeeds$$' -v ./node/sim/ > $$log 2>&1 & \
		echo "sim: $(SEEDS) seeds running in the background (pid $$!); follow with: tail -f $$log"; \
		SIM_STRONG_SEEDS=$$strong SIM_STRONG_FIRST=$${SIM_STRONG_FIRST:-1} nohup $(GO) test -count=1 -timeout 0 -run '^TestStrongSeeds$$' -v ./node/sim/ > $$slog 2>&1 & \
		echo "sim: $$strong strong seeds running in the background (pid $$!); follow with: tail -f $$slog"; \
	else \
		SIM_SEEDS=$(SIM_SEEDS) $(GO) test -count=1 -timeout 0 -run '^TestSeeds$$' -v ./node/sim/ && \
		SIM_QUORUM_SEEDS=$(SIM_SEEDS) $(GO) test -count=1 -timeout 0 -run '^TestQuorumReadSeeds$$' -v ./node/sim/ && \
		SIM_STRONG_SEEDS=$(SIM_STRONG_SEEDS) $(GO) test -count=1 -timeout 0 -run '^TestStrongSeeds$$' -v ./node/sim/; \
	fi

.PHONY: sim
