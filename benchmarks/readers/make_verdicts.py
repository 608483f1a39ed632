"""Write verdicts.yaml: the hand verdicts, by (repo, rule, file) pattern, for sample.py.

PYTHONPATH=. python benchmarks/readers/make_verdicts.py   # prints findings with no verdict
"""

import sys
from pathlib import Path

from ruamel.yaml import YAML

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sample import key, sample

RULES = [
    (
        "sagemaker",
        "PF101",
        "sm-smddp_bert",
        "correct",
        "multi-node BERT pretraining for hours without checkpoint_s3_uri",
    ),
    (
        "sagemaker",
        "PF207",
        "sm-smddp_bert",
        "false",
        "NVIDIA's BERT script is no Trainer: the SIGTERM advice does not apply",
    ),
    (
        "sagemaker",
        "PF101",
        "serverless_inference_huggingface",
        "correct",
        "Trainer checkpoints in /opt/ml/model and no checkpoint_s3_uri",
    ),
    (
        "sagemaker",
        "PF207",
        "model_builder_handshake",
        "false",
        "a 10-minute demo job: nothing worth saving on SIGTERM",
    ),
    # (repo substring, rule, file substring or "", verdict, why)
    (
        "sagemaker",
        "PF101",
        "data_parallelism_pytorch",
        "false",
        "MNIST PyTorch demo: the launch file shows no Trainer and its script saves nothing mid-run",
    ),
    (
        "sagemaker",
        "PF207",
        "data_parallelism_pytorch",
        "false",
        "same MNIST demo: no Trainer, nothing to save on SIGTERM",
    ),
    (
        "sagemaker",
        "PF101",
        "heterogeneous_clusters",
        "false",
        "TF/PyTorch MNIST-style demo launch; no Trainer, no checkpoints to sync",
    ),
    ("sagemaker", "PF207", "heterogeneous_clusters", "false", "same demo: no Trainer loop"),
    (
        "sagemaker",
        "PF201",
        "run_clm.py",
        "correct",
        "the notebook passes save_strategy no to a multi-node p4d job: a stop loses the run",
    ),
    (
        "sagemaker",
        "PF201",
        "single_gpu_bert",
        "correct",
        "save_strategy no on a SageMaker job of unknown length: true",
    ),
    (
        "sagemaker",
        "PF203",
        "",
        "false",
        "old name evaluation_strategy is set (transformers < 4.46 field)",
    ),
    (
        "sagemaker",
        "PF205",
        "",
        "correct",
        "load_best_model_at_end on a job that MaxRuntime can cut: true, advisory",
    ),
    (
        "sagemaker",
        "PF208",
        "",
        "false",
        "resumes from an input channel path, which SageMaker also downloads at each start",
    ),
    (
        "sagemaker",
        "PF210",
        "",
        "correct",
        "num_train_epochs 1 with save_strategy epoch: one checkpoint at the end, true",
    ),
    (
        "sagemaker",
        "PF213",
        "",
        "correct",
        "save_total_limit 3 on a SageMaker job: older checkpoints deleted, true",
    ),
    (
        "sagemaker",
        "PF501",
        "",
        "correct",
        "transformers unpinned (requirements.txt): today's 5.x rejects the key",
    ),
    ("sagemaker", "PF511", "", "correct", "SDK v1 keyword: TypeError in SDK v2"),
    (
        "sagemaker",
        "PF704",
        "mixtral",
        "false",
        "QLoRA with device_map='auto' (scripts/run_clm.py:178) spreads one model over the 4 GPUs in one process; Trainer does not wrap it in DataParallel",
    ),
    ("sagemaker", "PF704", "", "false", "distribution pytorchxla launches one process per GPU"),
    (
        "sagemaker",
        "PF102",
        "",
        "correct",
        "checkpoints in /opt/ml/model are uploaded only at the end",
    ),
    (
        "",
        "PF202",
        "",
        "false",
        "overstated: Trainer rotates only after the new checkpoint is fully written (trainer.py _save_checkpoint), so a cut-off save leaves the previous one",
    ),
    (
        "axolotl",
        "PF210",
        "",
        "correct",
        "save interval beyond the run's steps: only the final checkpoint, true",
    ),
    (
        "LLaMA-Factory",
        "PF210",
        "",
        "correct",
        "save_steps 3000 > max_steps 1000: no checkpoint before the end",
    ),
    (
        "LLaMA-Factory",
        "PF501",
        "",
        "correct",
        "pyproject allows at most transformers 5.8, which removed the key (5.0)",
    ),
    ("alignment-handbook", "PF201", "", "correct", "multi-hour recipe that never saves"),
    (
        "alignment-handbook",
        "PF501",
        "",
        "correct",
        "setup.py transformers>=4.53.3 installs 5.x today, which rejects the key",
    ),
    (
        "alignment-handbook",
        "PF510",
        "",
        "correct",
        "setup.py trl>=0.19.1 installs 1.16 today, which dropped the field",
    ),
    ("peft", "PF201", "KappaTune", "correct", "experiment runs of unknown length save nothing"),
    ("peft", "PF201", "test_adamss_quick", "false", "a quick test run: nothing worth saving"),
    (
        "peft",
        "PF201",
        "seq2seq_with_generate",
        "false",
        "a short demo notebook: nothing worth saving",
    ),
    (
        "peft",
        "PF201",
        "cpt_train_and_inference",
        "false",
        "a short demo notebook: nothing worth saving",
    ),
    ("peft", "PF201", "tests/test_cpt.py", "false", "a unit test, not a training job"),
    ("peft", "PF210", "", "correct", "200-step run saves only at the end: true, minor"),
    (
        "peft",
        "PF501",
        "",
        "correct",
        "peft examples run with today's transformers (unpinned): the key is a TypeError since 5.x",
    ),
    ("llm-finetuning", "PF201", "", "correct", "50 epochs, never saved"),
    ("llm-finetuning", "PF210", "", "correct", "one epoch, save per epoch: only at the end"),
    (
        "alpaca-lora",
        "PF501",
        "",
        "correct",
        "requirements transformers>=4.28 installs 5.x today; the conditional value is still the removed keyword",
    ),
    (
        "notebooks",
        "PF201",
        "RAFT",
        "correct",
        "5 epochs on Colab/Kaggle (which disconnect) with save_strategy no",
    ),
    ("trl", "PF504", "", "false", "fp16 alone; TRL's bf16 default follows fp16"),
]
out = {}
unknown = []
for f in sample():
    for repo, rule, sub, verdict, why in RULES:
        if repo in f["repo"] and rule == f["rule"] and sub in f["file"]:
            out[key(f)] = {"verdict": verdict, "why": why}
            break
    else:
        unknown.append(key(f) + " :: " + f["message"][:120])

y = YAML()
y.width = 200
with open("benchmarks/readers/verdicts.yaml", "w") as fh:
    fh.write(
        "# Hand verdicts for the sample of sample.py: is the finding true of that file as its\n# project runs it, and worth a person's time? Written by reading each file (readers-truth).\n"
    )
    y.dump(out, fh)
print("\n".join(unknown))
