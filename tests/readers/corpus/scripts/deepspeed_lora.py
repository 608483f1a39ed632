"""LoRA with DeepSpeed ZeRO-3 from a JSON file next to the script (PF701 case)."""
from peft import LoraConfig
from transformers import TrainingArguments

peft_config = LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"])
args = TrainingArguments(
    output_dir="out",
    deepspeed="../launchers/ds_zero3_offload.json",
    per_device_train_batch_size=1,
    bf16=True,
)
