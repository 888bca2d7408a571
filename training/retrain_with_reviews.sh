#!/usr/bin/env bash
# Retrain the default model with reviewer decisions as an extra dataset, then compare with the champion.
#   training/retrain_with_reviews.sh [REVIEW_DB_URL]
set -euo pipefail
db="${1:-sqlite:///review.db}"
out="data/generated/review_labels.jsonl"
grooming-risk review export-labels --db "$db" -o "$out"
grooming-risk train --config configs/default.yaml --extra "$out"
grooming-risk promote --data data/handwritten/eval_v1.jsonl --data data/generated/splits/test.jsonl
