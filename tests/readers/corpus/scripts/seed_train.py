"""The seed story's training script (scripts/train_igbo_model.py), reduced to its configuration."""
import os

from peft import LoraConfig
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

model = AutoModelForCausalLM.from_pretrained("mistralai/Mistral-7B-v0.1", torch_dtype="float16")
lora = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules=["q_proj", "v_proj"])

training_args = TrainingArguments(
    output_dir=os.environ.get("SM_OUTPUT_DATA_DIR", "/opt/ml/output/data"),
    per_device_train_batch_size=1,
    gradient_accumulation_steps=16,
    save_strategy="steps",
    save_steps=1000,
    save_total_limit=3,
    load_best_model_at_end=True,
    eval_strategy="steps",
    eval_steps=500,
    gradient_checkpointing=True,
    fp16=True,
)
trainer = Trainer(model=model, args=training_args)
trainer.train()
