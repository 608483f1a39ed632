"""A DPO script (modelled on TRL's dpo.py and alignment-handbook's DPO recipes)."""
from trl import DPOConfig, DPOTrainer

training_args = DPOConfig(
    output_dir="zephyr-7b-dpo",
    beta=0.01,
    max_prompt_length=512,
    max_length=1024,
    evaluation_strategy="steps",
    eval_steps=100,
    per_device_train_batch_size=8,
    learning_rate=5e-7,
    save_strategy="steps",
    save_steps=100,
)
trainer = DPOTrainer(model="mistralai/Mistral-7B-v0.1", args=training_args)
trainer.train()
