"""The paper's networks: CIFAR 6n+2 and ImageNet ResNets with switchable shortcuts."""

from ..archs import ARCHITECTURES, LEVEL_STAGES, LEVELS, ArchSpec, parse_arch
from .blocks import BasicBlock, Bottleneck, Probe, ProbedBlock
from .registry import (
    architecture_table,
    build_from_spec,
    build_model,
    count_parameters,
    level_module,
    level_of_block,
)
from .resnet import SHORTCUT_OPTIONS, ResNet, cifar_resnet, imagenet_resnet

__all__ = [
    "ARCHITECTURES",
    "LEVELS",
    "LEVEL_STAGES",
    "SHORTCUT_OPTIONS",
    "ArchSpec",
    "BasicBlock",
    "Bottleneck",
    "Probe",
    "ProbedBlock",
    "ResNet",
    "architecture_table",
    "build_from_spec",
    "build_model",
    "cifar_resnet",
    "count_parameters",
    "imagenet_resnet",
    "level_module",
    "level_of_block",
    "parse_arch",
]
