"""Entry file for MLflow's "models from code": MLflow runs this file to build the model, so the
logged model holds no pickled Python object. Only MLflow should import this module."""

from mlflow.models import set_model

from grooming_risk.inference.pyfunc import GroomingRiskModel

set_model(GroomingRiskModel())
