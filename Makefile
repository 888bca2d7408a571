# grooming-risk: two commands on a fresh machine: `make demo` and `make test`.
# Every target creates .venv and installs what it needs first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
GR := $(BIN)/grooming-risk
# On a machine without a local CPU torch wheel, point pip at PyTorch's CPU index, e.g.
#   make demo TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=
PIP_INSTALL := $(BIN)/python -m pip install -q -c constraints.txt $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX))
PYTEST_ARGS ?=
BAKEOFF_ARGS ?=

DATA := data/generated
SYNTH := $(DATA)/synth.jsonl
SPLITS := $(DATA)/splits
# Real benign chats (chitchat-dataset) with their fixed SHA-256 split: train / val / test.
REAL := data/real
CHITCHAT := $(REAL)/chitchat.jsonl
REAL_TRAIN := $(REAL)/chitchat.train.jsonl
REAL_VAL := $(REAL)/chitchat.val.jsonl
REAL_TEST := $(REAL)/chitchat.test.jsonl
# Validation: writers training never reads, woven into the real val slice. Early stopping,
# calibration, thresholds and promotion use it with REAL_VAL; nothing else chooses.
VAL := $(DATA)/val_unseen_writers.jsonl
VAL_N ?= 1000
LANGUAGE ?= mix
# Share of the real train slice used, as carriers and as real benign training chats alike (the
# same id-hashed subset; configs' data.mix.real_benign.share must match). Half keeps `make demo`'s
# encoding within its time budget on 2 cores.
REAL_SHARE ?= 0.5
HANDWRITTEN := data/handwritten/eval_v1.jsonl
HANDWRITTEN_ML := data/handwritten/eval_v2_multilingual.jsonl
# Hand-written chats by other writers, committed: trained on (configs' data.extra) and validated on
# (data.val_handwritten); they may choose, the evaluation sets above only report.
HW_TRAIN := data/handwritten/train_v1.jsonl data/handwritten/train_v2.jsonl data/handwritten/train_v3.jsonl
HW_VAL := data/handwritten/val_v1.jsonl data/handwritten/val_v2.jsonl
MODELS := artifacts/models
DEMO := artifacts/demo
N ?= 4000
SEED ?= 13

export PIP_DISABLE_PIP_VERSION_CHECK := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: help install lint test test-fast data train baseline evaluate promote score onnx demo mlflow-ui review-serve benchmark bakeoff clean

help:  ## List targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

$(BIN)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --upgrade pip
	$(PIP_INSTALL) -e '.[all,dev]'
	touch $@

install: $(BIN)/.installed  ## Create .venv and install the package with every extra.

lint: install  ## Ruff (lint + format check) and mypy.
	$(BIN)/ruff check src tests training benchmarks
	$(BIN)/ruff format --check src tests training benchmarks
	$(BIN)/mypy

test: lint  ## Lint, type-check and run the whole test suite (what CI runs).
	$(BIN)/pytest $(PYTEST_ARGS)

test-fast: install  ## Tests without the slow, browser and integration ones.
	$(BIN)/pytest -m "not slow and not browser and not integration" $(PYTEST_ARGS)

$(CHITCHAT): | install
	$(GR) data import chitchat -o $@

$(SYNTH): $(CHITCHAT)
	$(GR) synth -n $(N) --seed $(SEED) --writers train --language $(LANGUAGE) --phrase-pool train \
		--carriers $(REAL_TRAIN) --carrier-share $(REAL_SHARE) -o $@

$(VAL): $(CHITCHAT)
	$(GR) synth -n $(VAL_N) --seed $$(( $(SEED) + 1000 )) --writers validation --language $(LANGUAGE) \
		--carriers $(REAL_VAL) -o $@

$(SPLITS)/manifest.json: $(SYNTH)
	$(GR) data split $(SYNTH) -o $(SPLITS) --seed $(SEED)

data: $(SPLITS)/manifest.json $(VAL)  ## Import real chats; generate, weave and split N conversations; unseen-writer val.
	$(GR) data stats $(SYNTH) --compare $(VAL) --no-progress
	$(GR) data stats $(CHITCHAT) --compare $(HANDWRITTEN) --no-progress

$(MODELS)/baseline/grooming_risk.json: $(SPLITS)/manifest.json $(VAL) $(HW_TRAIN) $(HW_VAL)
	$(GR) train --config configs/baseline.yaml

$(MODELS)/default/grooming_risk.json: $(SPLITS)/manifest.json $(VAL) $(HW_TRAIN) $(HW_VAL)
	$(GR) train --config configs/default.yaml

baseline: $(MODELS)/baseline/grooming_risk.json  ## Train the TF-IDF + logistic regression baseline.
train: $(MODELS)/default/grooming_risk.json  ## Train the default model (configs/default.yaml: multilingual USE + evidence-tied GRU).

evaluate: train baseline  ## Evaluate the default model beside the baseline into MLflow.
	$(GR) evaluate --model $(MODELS)/default --baseline $(MODELS)/baseline --card \
		--data $(HANDWRITTEN) --data $(HANDWRITTEN_ML) --data $(VAL) $(addprefix --data ,$(HW_VAL)) --data $(REAL_TEST)

promote: train  ## Candidate vs champion on validation only (unseen writers, generated and hand-written; real-chat false alarms).
	$(GR) promote --data $(VAL) $(addprefix --data ,$(HW_VAL)) --real $(REAL_VAL)

score: train  ## Score sample conversations with the default model, with recommended actions; rank their senders.
	mkdir -p $(DEMO)
	$(GR) synth -n 40 --seed $$(( $(SEED) + 2000 )) --writers validation --repeat-offender-share 0.7 \
		--no-card -o $(DEMO)/returning.jsonl
	$(BIN)/python -m grooming_risk.cli.demo_sample $(SPLITS)/test.jsonl $(DEMO)/sample_conversations.jsonl 25 \
		$(DEMO)/returning.jsonl
	$(GR) score $(DEMO)/sample_conversations.jsonl -o $(DEMO)/assessments.jsonl --actions
	$(BIN)/python -m grooming_risk.cli.summary $(DEMO)/assessments.jsonl
	$(GR) senders $(DEMO)/assessments.jsonl -o $(DEMO)/senders.jsonl --show 5

$(MODELS)/default-onnx/grooming_risk.json: $(MODELS)/default/grooming_risk.json
	$(GR) export onnx --model $(MODELS)/default -o $(MODELS)/default-onnx --check-data $(HANDWRITTEN)

onnx: $(MODELS)/default-onnx/grooming_risk.json  ## int8 ONNX export of the default model: on-device and the fast CPU path.

bakeoff: data  ## Model bake-off: configs/bakeoff/model_v2.yaml's candidates x 3 seeds, chosen on validation only (~10 min a run on 2 cores; make bakeoff BAKEOFF_ARGS=--resume continues).
	$(GR) bakeoff --config configs/bakeoff/model_v2.yaml $(BAKEOFF_ARGS)

benchmark: train  ## Throughput, latency, ONNX export and eSPD comparison of the default model: one table.
	$(BIN)/python benchmarks/benchmark.py --onnx-export --json artifacts/benchmark.json

# onnx before score: the samples are scored on the default path, the current ONNX export.
demo: data train baseline evaluate promote onnx score  ## Everything: data, both models, evaluation, ONNX, scoring.
	@echo
	@echo "Done. Where to look:"
	@echo "  MLflow runs, plots, registered model:  $(BIN)/mlflow ui --backend-store-uri sqlite:///mlflow.db   (then http://127.0.0.1:5000)"
	@echo "  Model artifact and model card:         $(MODELS)/default/ (MODEL_CARD.md)"
	@echo "  Scored samples (with actions):         $(DEMO)/assessments.jsonl"
	@echo "  Senders ranked across the samples:     $(DEMO)/senders.jsonl"
	@echo "  Score your own file:                   $(GR) score FILE.jsonl -o out.jsonl"
	@echo "  Streaming HTTP service:                $(GR) serve --no-auth   (the default path: the ONNX export)"
	@echo "  Reviewer app on the samples:           make review-serve   (create an account first, see README)"

serve: train  ## HTTP scoring service on 127.0.0.1:8000 for local development (no API keys).
	$(GR) serve --model $(MODELS)/default --no-auth

review-serve: score  ## Reviewer app on the demo's scored samples (create an account first, see README).
	$(GR) review init-db
	$(GR) review ingest $(DEMO)/assessments.jsonl --conversations $(DEMO)/sample_conversations.jsonl
	$(GR) review serve

mlflow-ui: install  ## Open the MLflow UI on the local store.
	$(BIN)/mlflow ui --backend-store-uri sqlite:///mlflow.db

clean:  ## Remove generated data, models, MLflow store and caches (keeps .venv).
	rm -rf $(DATA) $(REAL) artifacts mlflow.db mlartifacts .cache .pytest_cache .mypy_cache .ruff_cache build
