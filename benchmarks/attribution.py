"""Attribution speed against issue 5's targets, and our wrapper's overhead over Captum.

Measures, on this CPU:
* resnet20 at 32x32: Saliency + LayerGradCam at low/mid/high together (target < 100 ms);
* resnet20 at 32x32: Integrated Gradients with 50 steps (target < 1 s);
* our wrapper (``Inspector.attribute``, cache cleared every round) against Captum called
  directly on the same model and inputs (target: within 1.1x, judged on the median of the
  rounds' own ratios, which one round's load spike cannot move);
* resnet50 at 224x224: LayerGradCam at the high level (target < 1 s), and all three levels;
* issue #13's methods (layer methods at the mid level, input methods, neuron methods on one
  channel), each ours against Captum called directly with the same settings and the same
  post-processing (layer maps summed over channels and upsampled; target <= 1.1x each).

Each figure is the median of ``--repeat`` rounds after a warm-up; ours and Captum's rounds
alternate so machine load hits both alike. Weights are random (He init) unless
``--checkpoint`` is given: attribution cost does not depend on the values. Prints JSON.

    python benchmarks/attribution.py [--repeat 15] [--checkpoint C] [--skip-resnet50]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import add_common_options, apply_threads, machine  # noqa: E402  (benchmarks/ is on sys.path)


def _median_ms(fn, repeat: int) -> float:
    fn()  # warm-up: first-call allocations, lazy imports
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000.0 * statistics.median(times)


def _paired(ours, direct, repeat: int) -> tuple[float, float, float]:
    """Medians of interleaved rounds, each side first every other round, so load spikes
    and warm caches fall on both alike; and the median of the rounds' own ratios (ours over
    Captum's in the same round), which a load spike in one round cannot move."""
    ours()
    direct()
    times: dict = {ours: [], direct: []}
    for i in range(repeat):
        for fn in (ours, direct) if i % 2 else (direct, ours):
            t = time.perf_counter()
            fn()
            times[fn].append(time.perf_counter() - t)
    ratios = [a / b for a, b in zip(times[ours], times[direct], strict=True)]
    return 1000.0 * statistics.median(times[ours]), 1000.0 * statistics.median(times[direct]), statistics.median(ratios)


def _entry(ours_ms: float, captum_ms: float | None, target_ms: float | None, paired_ratio: float | None = None) -> dict:
    out = {"ours_ms": round(ours_ms, 2)}
    if captum_ms is not None:
        out["captum_direct_ms"] = round(captum_ms, 2)
        out["ratio_ours_to_captum"] = round(ours_ms / captum_ms, 3)
        out["ratio_median_of_rounds"] = round(paired_ratio, 3)
        out["within_1.1x"] = paired_ratio <= 1.1
    if target_ms is not None:
        out["target_ms"] = target_ms
        out["meets_target"] = ours_ms < target_ms
    return out


#: Issue #13's methods: (name, level) and how many rounds relative to --repeat.
_NEW_METHODS = (
    ("conductance", "mid", 3),
    ("layer-ig", "mid", 3),
    ("layer-gradxact", "mid", 1),
    ("layer-deeplift", "mid", 1),
    ("layer-activation", "mid", 1),
    ("deeplift", None, 1),
    ("gradientshap", None, 1),
    ("smoothgrad", None, 1),
    ("smoothgrad-ig", None, 5),
    ("neuron-gradient", "mid", 1),
    ("neuron-ig", "mid", 3),
)


def _captum_direct(net, method: str, level: str | None, x, target: int, channel: int):
    """Captum called directly as the wrapper documents it (resviz.core.inspect.attribution)."""
    from captum import attr as ca

    from resviz.core.inspect.attribution import ig_batch_size, noise_std, seeded, shap_baselines
    from resviz.core.models import level_module

    xi = x.detach().clone().requires_grad_(True)
    h, w = x.shape[-2:]
    steps = {"n_steps": 50, "internal_batch_size": ig_batch_size(50, h, w)}
    layer = level_module(net, level) if level else None

    def as_map(a):
        return ca.LayerAttribution.interpolate(a.sum(dim=1, keepdim=True), (h, w), interpolate_mode="bilinear")

    def select(out):
        return out[:, channel].mean(dim=(1, 2))

    layer_calls = {
        "conductance": lambda: ca.LayerConductance(net, layer).attribute(xi, target=target, **steps),
        "layer-ig": lambda: ca.LayerIntegratedGradients(net, layer).attribute(xi, target=target, **steps),
        "layer-gradxact": lambda: ca.LayerGradientXActivation(net, layer).attribute(xi, target=target),
        "layer-deeplift": lambda: ca.LayerDeepLift(net, layer).attribute(xi, target=target),
        "layer-activation": lambda: ca.LayerActivation(net, layer).attribute(xi),
    }
    if method in layer_calls:
        return as_map(layer_calls[method]())
    if method == "deeplift":
        return ca.DeepLift(net).attribute(xi, target=target)
    if method == "neuron-gradient":
        return ca.NeuronGradient(net, layer).attribute(xi, neuron_selector=select)
    if method == "neuron-ig":
        return ca.NeuronIntegratedGradients(net, layer).attribute(xi, neuron_selector=select, **steps)
    with seeded(0, xi.device):
        if method == "gradientshap":
            return ca.GradientShap(net).attribute(xi, baselines=shap_baselines(xi), target=target, n_samples=16)
        if method == "smoothgrad":
            return ca.NoiseTunnel(ca.Saliency(net)).attribute(
                xi, nt_type="smoothgrad", nt_samples=16, stdevs=noise_std(xi), target=target, abs=True
            )
        return ca.NoiseTunnel(ca.IntegratedGradients(net)).attribute(
            xi, nt_type="smoothgrad", nt_samples=8, stdevs=noise_std(xi), target=target, **steps
        )


def _issue13_methods(inspector, image, target: int, repeat: int) -> dict:
    import warnings

    out = {}
    channel = 5
    for method, level, cost in _NEW_METHODS:

        def ours(method=method, level=level):
            inspector.cache.clear()
            inspector.attribute(
                image, method, level, target=target, channel=channel if method.startswith("neuron") else None
            )

        def direct(method=method, level=level):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Captum's notice about hooking ReLUs, as ours silences it
                _captum_direct(inspector.model, method, level, image.tensor, target, channel)

        rounds = 2 * repeat if cost == 1 else max(3, repeat // cost)  # cheap ones: more rounds
        ours_ms, direct_ms, ratio = _paired(ours, direct, rounds)
        out[f"resnet20_32_{method}" + (f"_{level}" if level else "")] = _entry(ours_ms, direct_ms, None, ratio)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--skip-resnet50", action="store_true")
    add_common_options(parser, "trained resnet20 weights")
    args = parser.parse_args()

    import numpy as np
    import torch
    from captum.attr import IntegratedGradients, LayerAttribution, LayerGradCam, Saliency

    from resviz.core.inspect import Inspector, load_model
    from resviz.core.inspect.preprocess import Preprocess
    from resviz.core.models import build_model, level_module

    apply_threads(args)
    torch.manual_seed(0)
    if args.checkpoint:
        inspector = Inspector(load_model(args.checkpoint))
        weights = f"trained: {args.checkpoint}"
    else:
        inspector = Inspector.from_model(build_model("resnet20"), [str(i) for i in range(10)], Preprocess.unit(32))
        weights = "random init (He), no trained resnet20 given"
    rng = np.random.default_rng(0)
    image = inspector.prepare(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8))
    target = inspector.resolve_target(image, None)
    net = inspector.model  # the same frozen copy Captum gets called on directly
    x = image.tensor

    def ours_fast():
        inspector.cache.clear()
        inspector.attribute(image, "saliency", target=target)
        inspector.attribute_levels(image, "gradcam", target=target)

    def captum_fast():
        xi = x.detach().clone().requires_grad_(True)
        Saliency(net).attribute(xi, target=target, abs=True)
        for level in ("low", "mid", "high"):
            cam = LayerGradCam(net, level_module(net, level)).attribute(xi, target=target, relu_attributions=True)
            LayerAttribution.interpolate(cam, (32, 32), "bilinear")  # ours returns input-sized maps too

    def ours_ig():
        inspector.cache.clear()
        inspector.attribute(image, "ig", target=target)

    def captum_ig():
        xi = x.detach().clone().requires_grad_(True)
        IntegratedGradients(net).attribute(xi, target=target, n_steps=50, internal_batch_size=50)

    results = {}
    ours, direct, ratio = _paired(ours_fast, captum_fast, args.repeat)
    results["resnet20_32_saliency_plus_gradcam_3_levels"] = _entry(ours, direct, 100.0, ratio)
    ours, direct, ratio = _paired(ours_ig, captum_ig, max(3, args.repeat // 3))
    results["resnet20_32_integrated_gradients_50_steps"] = _entry(ours, direct, 1000.0, ratio)
    cached = _median_ms(lambda: inspector.attribute(image, "ig", target=target), args.repeat)
    results["resnet20_32_integrated_gradients_cache_hit"] = _entry(cached, None, None)

    results.update(_issue13_methods(inspector, image, target, args.repeat))

    if not args.skip_resnet50:
        big = Inspector.from_model(
            build_model("resnet50"), [str(i) for i in range(1000)], Preprocess.normalized(224, resize=256)
        )
        photo = big.prepare(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8))
        t50 = big.resolve_target(photo, None)

        def ours_cam50():
            big.cache.clear()
            big.attribute(photo, "gradcam", "high", target=t50)

        def captum_cam50():
            xi = photo.tensor.detach().clone().requires_grad_(True)
            cam = LayerGradCam(big.model, level_module(big.model, "high")).attribute(
                xi, target=t50, relu_attributions=True
            )
            LayerAttribution.interpolate(cam, (224, 224), "bilinear")

        def ours_cam50_all():
            big.cache.clear()
            big.attribute_levels(photo, "gradcam", target=t50)

        reps = max(9, args.repeat // 2)
        ours, direct, ratio = _paired(ours_cam50, captum_cam50, reps)
        results["resnet50_224_gradcam_high"] = _entry(ours, direct, 1000.0, ratio)
        results["resnet50_224_gradcam_3_levels"] = _entry(_median_ms(ours_cam50_all, reps), None, None)

    print(
        json.dumps(
            {
                "benchmark": "attribution",
                "weights": weights,
                "torch": torch.__version__,
                "cpu": platform.processor() or platform.machine(),
                **machine(args),
                "repeat": args.repeat,
                "note": "Captum direct runs on the same frozen model copy and upsamples Grad-CAM as ours does",
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
