"""trainjob: run the fine-tune itself, so that it cannot lose its work.

``trainjob run SPEC`` (``trainjob.run.run_job``) trains locally or inside a SageMaker container
(``trainjob.run.main_from_sagemaker_env``) after ``preflight.check`` passes; ``trainjob rehearse
SPEC`` (``trainjob.rehearse.rehearse``) proves data, save, SIGTERM and resume on a shallow copy
of the model in minutes. Importing this package imports neither torch nor transformers.
"""
