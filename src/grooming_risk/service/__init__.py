"""HTTP scoring service: whole conversations and message-by-message streaming over `RiskScorer`.

    from grooming_risk.service.app import create_app
    from grooming_risk.service.settings import ServiceSettings
    app = create_app(ServiceSettings(model="artifacts/models/default", api_keys_file="keys.txt"))

FastAPI and prometheus-client are imported by the modules here, not by this package, so importing
`grooming_risk.service.settings` (what the CLI does to build its options) stays cheap.
"""
