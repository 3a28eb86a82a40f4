# The front door. Each target is one line delegating to scripts/ (see README.md).
.PHONY: setup build demo lab test bench

setup: ; bash scripts/setup.sh
build: ; bash scripts/build.sh
demo: ; bash scripts/demo.sh
lab: ; bash scripts/lab.sh
test: ; bash scripts/test.sh
bench: ; bash scripts/bench.sh
