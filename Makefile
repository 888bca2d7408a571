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

DATA := data/generated
SYNTH := $(DATA)/synth.jsonl
SPLITS := $(DATA)/splits
# Wordings the training corpus never uses: validation for early stopping, calibration, thresholds.
HELDOUT := $(DATA)/heldout_phrasing.jsonl
HELDOUT_N ?= 1000
HANDWRITTEN := data/handwritten/eval_v1.jsonl
MODELS := artifacts/models
DEMO := artifacts/demo
N ?= 5000
SEED ?= 13

export PIP_DISABLE_PIP_VERSION_CHECK := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: help install lint test test-fast data train baseline evaluate promote score onnx demo mlflow-ui review-serve benchmark clean

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

$(SYNTH): | install
	$(GR) synth -n $(N) --seed $(SEED) --phrase-pool train -o $@

$(HELDOUT): | install
	$(GR) synth -n $(HELDOUT_N) --seed $$(( $(SEED) + 1000 )) --phrase-pool heldout -o $@

$(SPLITS)/manifest.json: $(SYNTH)
	$(GR) data split $(SYNTH) -o $(SPLITS) --seed $(SEED)

data: $(SPLITS)/manifest.json $(HELDOUT)  ## Generate and split N conversations, plus a held-out-phrasing set.
	$(GR) data stats $(SYNTH) --compare $(HANDWRITTEN)
	$(GR) data stats $(SYNTH) --compare $(HELDOUT)

$(MODELS)/baseline/grooming_risk.json: $(SPLITS)/manifest.json $(HELDOUT)
	$(GR) train --config configs/baseline.yaml

$(MODELS)/default/grooming_risk.json: $(SPLITS)/manifest.json $(HELDOUT)
	$(GR) train --config configs/default.yaml

baseline: $(MODELS)/baseline/grooming_risk.json  ## Train the TF-IDF + logistic regression baseline.
train: $(MODELS)/default/grooming_risk.json  ## Train the default model (MiniLM + GRU).

evaluate: train baseline  ## Evaluate the default model beside the baseline into MLflow.
	$(GR) evaluate --model $(MODELS)/default --baseline $(MODELS)/baseline \
		--data $(HANDWRITTEN) --data $(HELDOUT) --data $(SPLITS)/test.jsonl

promote: train  ## Compare candidate with champion and move the champion alias.
	$(GR) promote --data $(HANDWRITTEN) --data $(HELDOUT) --data $(SPLITS)/test.jsonl

score: train  ## Score sample conversations with the default model.
	mkdir -p $(DEMO)
	head -n 25 $(SPLITS)/test.jsonl > $(DEMO)/sample_conversations.jsonl
	$(GR) score $(DEMO)/sample_conversations.jsonl -o $(DEMO)/assessments.jsonl
	$(BIN)/python -m grooming_risk.cli.summary $(DEMO)/assessments.jsonl

$(MODELS)/default-onnx/grooming_risk.json: $(MODELS)/default/grooming_risk.json
	$(GR) export onnx --model $(MODELS)/default -o $(MODELS)/default-onnx --check-data $(HANDWRITTEN)

onnx: $(MODELS)/default-onnx/grooming_risk.json  ## int8 ONNX export of the default model: on-device and the fast CPU path.

benchmark: train  ## Throughput, latency, ONNX export and eSPD comparison of the default model: one table.
	$(BIN)/python benchmarks/benchmark.py --onnx-export --json artifacts/benchmark.json

demo: data train baseline evaluate promote score onnx  ## Everything: data, both models, evaluation, scoring, ONNX.
	@echo
	@echo "Done. Where to look:"
	@echo "  MLflow runs, plots, registered model:  $(BIN)/mlflow ui --backend-store-uri sqlite:///mlflow.db   (then http://127.0.0.1:5000)"
	@echo "  Model artifact and model card:         $(MODELS)/default/ (MODEL_CARD.md)"
	@echo "  Scored samples:                        $(DEMO)/assessments.jsonl"
	@echo "  Score your own file:                   $(GR) score FILE.jsonl -o out.jsonl"
	@echo "  Streaming HTTP service:                $(GR) serve --model $(MODELS)/default-onnx --no-auth   (ONNX: the fast CPU path)"

serve: train  ## HTTP scoring service on 127.0.0.1:8000 for local development (no API keys).
	$(GR) serve --model $(MODELS)/default --no-auth

review-serve: score  ## Reviewer app on the demo's scored samples (create an account first, see README).
	$(GR) review init-db
	$(GR) review ingest $(DEMO)/assessments.jsonl --conversations $(DEMO)/sample_conversations.jsonl
	$(GR) review serve

mlflow-ui: install  ## Open the MLflow UI on the local store.
	$(BIN)/mlflow ui --backend-store-uri sqlite:///mlflow.db

clean:  ## Remove generated data, models, MLflow store and caches (keeps .venv).
	rm -rf $(DATA) artifacts mlflow.db mlartifacts .cache .pytest_cache .mypy_cache .ruff_cache build
