"""A QLoRA script whose arguments are argparse defaults (modelled on the SageMaker HF QLoRA blog)."""
import argparse
import os

import torch
from peft import LoraConfig
from transformers import AutoModelForCausalLM, BitsAndBytesConfig, Trainer, TrainingArguments


def parse_arge():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model_id", type=str, default="meta-llama/Meta-Llama-3-8B")
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--per_device_train_batch_size", type=int, default=1)
    parser.add_argument("--gradient_checkpointing", action="store_true")
    parser.add_argument("--merge_weights", type=bool, default=True)
    args = parser.parse_known_args()
    return args


def training_function(args):
    bnb_config = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_compute_dtype=torch.bfloat16)
    model = AutoModelForCausalLM.from_pretrained(args.model_id, quantization_config=bnb_config)
    peft_config = LoraConfig(r=64, lora_alpha=16, lora_dropout=0.1, target_modules="all-linear")
    output_dir = "/opt/ml/model"
    training_args = TrainingArguments(
        output_dir=output_dir,
        per_device_train_batch_size=args.per_device_train_batch_size,
        bf16=True,
        learning_rate=args.lr,
        num_train_epochs=args.epochs,
        gradient_checkpointing=args.gradient_checkpointing,
        logging_steps=10,
        save_strategy="epoch",
    )
    Trainer(model=model, args=training_args).train()


def main():
    args, _ = parse_arge()
    training_function(args)


if __name__ == "__main__":
    main()
