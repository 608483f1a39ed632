"""Seq2SeqTrainingArguments (transformers translation example): its own fields are not unknown."""
from transformers import Seq2SeqTrainingArguments

args = Seq2SeqTrainingArguments(
    output_dir="opus-mt-ig-en",
    predict_with_generate=True,
    generation_max_length=128,
    eval_strategy="epoch",
    save_strategy="epoch",
    save_total_limit=2,
    num_train_epochs=3,
)
