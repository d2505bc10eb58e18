"""Run by tests/core/test_distributed.py under torchrun: one rank of a data-parallel run.

Each rank trains, then saves its final weights and every record it saw to OUT/rank<r>.pt,
so the test can compare what the ranks computed with what rank 0 wrote to the run folder.
"""

import sys

import torch

from resviz.core.train import QueueSink, TrainConfig, Trainer
from resviz.core.train.distributed import init_distributed, shutdown_distributed


class StopAt:
    def __init__(self, trainer, step):
        self.trainer, self.step = trainer, step

    def record(self, r):
        if r.step >= self.step:
            self.trainer.control.stop()

    def event(self, e): ...

    def status(self, s): ...


def main(run_dir: str, out: str, stop_at: int) -> None:
    ctx = init_distributed("cpu")
    cfg = TrainConfig(
        arch="resnet8",
        iters=40,
        batch_size=32,
        telemetry_every=5,
        eval_every=10,
        checkpoint_every=100,
        device="cpu",
        threads=1,
    )
    q = QueueSink()
    trainer = Trainer(cfg, run_dir=run_dir, sinks=[q], dist=ctx)
    trainer.sinks.append(StopAt(trainer, stop_at))
    status = trainer.run()
    records = [
        (r.step, r.scalars, {k: v.tolist() for k, v in r.vectors.items()}) for r in q.drain() if hasattr(r, "scalars")
    ]
    torch.save(
        {
            "rank": ctx.rank,
            "world_size": ctx.world_size,
            "status": status,
            "step": trainer.step,
            "model": trainer.model.state_dict(),
            "records": records,
        },
        f"{out}/rank{ctx.rank}.pt",
    )
    trainer.release_distributed()
    shutdown_distributed(ctx)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
