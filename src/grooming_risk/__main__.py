from grooming_risk.cli.main import app

if __name__ == "__main__":
    app()
