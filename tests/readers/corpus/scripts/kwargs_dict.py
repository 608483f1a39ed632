"""Arguments gathered in a dict and expanded with ** (common in SageMaker training scripts)."""
import os

from transformers import TrainingArguments

base = dict(
    output_dir="/opt/ml/checkpoints",
    per_device_train_batch_size=4,
)
overrides = {
    "save_strategy": "no",
    "logging_steps": 50,
}
base.update(overrides)
training_args = TrainingArguments(**base, report_to="none")
final_dir = os.environ["SM_MODEL_DIR"]
