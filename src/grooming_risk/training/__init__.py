"""Training and evaluation stages: `train(cfg)`, `evaluate(...)`, `promote(...)`."""
