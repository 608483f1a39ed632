"""Launch an SFT job on SageMaker spot capacity (modelled on huggingface/notebooks sagemaker/ examples)."""
import sagemaker
from sagemaker.huggingface import HuggingFace

role = sagemaker.get_execution_role()
hyperparameters = {
    "model_id": "mistralai/Mistral-7B-v0.1",
    "epochs": 1,
    "per_device_train_batch_size": 2,
    "lr": 2e-4,
    "output_dir": "/opt/ml/model",
}

estimator = HuggingFace(
    entry_point="train_sft.py",
    source_dir="scripts",
    instance_type="ml.g5.2xlarge",
    instance_count=1,
    role=role,
    transformers_version="4.36",
    pytorch_version="2.1",
    py_version="py310",
    use_spot_instances=True,
    max_run=36000,
    max_wait=3600,
    hyperparameters=hyperparameters,
)
estimator.fit({"training": "s3://my-bucket/sft/train"})
