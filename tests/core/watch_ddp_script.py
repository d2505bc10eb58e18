"""Run by tests/core/test_watch_distributed.py under torchrun: one rank of a watched DDP loop.

Each rank trains the same resnet8 on its own images, measures its own residual ratios and
losses on the probing steps with resviz's Probe (the local values), counts the Python
all-reduce calls resviz makes, and saves all of it to OUT/rank<r>.pt.
"""

import sys

import torch
import torch.distributed as dist
import torch.nn.functional as F

import resviz
from resviz.core.models import build_model
from resviz.core.models.blocks import Probe


def main(run_dir: str, out: str) -> None:
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    net = build_model("resnet8", num_classes=10)
    model = torch.nn.parallel.DistributedDataParallel(net)
    calls = []
    real = dist.all_reduce
    dist.all_reduce = lambda t, *a, **k: calls.append(t.numel()) or real(t, *a, **k)
    watch = resviz.watch(model, run_dir, every=2)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    local, losses = [], []
    g = torch.Generator().manual_seed(100 + rank)
    for step in range(1, 5):
        x, y = torch.randn(4, 3, 16, 16, generator=g), torch.randint(0, 10, (4,), generator=g)
        probe = Probe() if step % 2 == 0 else None
        net.attach_probe(probe)
        logits = model(x)
        net.attach_probe(None)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        watch.step(loss=loss, logits=logits, targets=y, lr=0.05)
        losses.append(loss.detach())
        if probe is not None:
            local.append({"step": step, "ratio": torch.stack(probe.residual_ratio).detach(), "loss": loss.detach()})
        opt.step()
        opt.zero_grad()
    watch.close()
    dist.all_reduce = real
    torch.save(
        {"local": local, "losses": torch.stack(losses), "calls": calls, "store": watch.store is not None},
        f"{out}/rank{rank}.pt",
    )
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
