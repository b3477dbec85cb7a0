"""The words a run's status is spelled with: written by ``cnnkit.train.fit``, stored and read by
``cnnkit.ablation``, shown by the notebooks. Defined here, below both, because importing
``cnnkit.train`` starts TensorFlow and the run store must read statuses without it.
"""

DONE = "done"            # trained for every epoch
DIVERGED = "diverged"    # the loss became NaN/inf and training stopped early: a result, not an error
FAILED = "failed"        # an exception (the record keeps the message and traceback); trained again next time
RUNNING = "running"      # the run store's mark while a run trains; one left behind is resumed

RUN_STATUSES = (DONE, DIVERGED, FAILED)    # what cnnkit.train.fit returns
RECORD_STATUSES = (RUNNING, *RUN_STATUSES)  # what a run record in the store may hold
FINISHED = (DONE, DIVERGED)                # results: never trained again

__all__ = ["DIVERGED", "DONE", "FAILED", "FINISHED", "RECORD_STATUSES", "RUNNING", "RUN_STATUSES"]
