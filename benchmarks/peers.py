"""Peer architectures for speed comparisons, built from their papers with random weights
(speed does not depend on the weights)."""

from __future__ import annotations

import torch
from torch import nn


def _block(cin, cout, n, stride_last=1, dilation=1, bn=True):
    layers = []
    for i in range(n):
        stride = stride_last if i == n - 1 else 1
        layers += [nn.Conv2d(cin if i == 0 else cout, cout, 3, stride=stride,
                             padding=dilation, dilation=dilation), nn.ReLU(inplace=True)]
    if bn:
        layers.append(nn.BatchNorm2d(cout))
    return layers


class ZhangECCV16(nn.Module):
    """Zhang, Isola & Efros, "Colorful Image Colorization" (ECCV 2016): VGG-style
    conv1–conv8 on L at 256×256, 313 colour-bin distribution, annealed-mean decoding
    (a 1×1 conv to a/b) and ×4 upsampling."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            *_block(1, 64, 2, 2), *_block(64, 128, 2, 2), *_block(128, 256, 3, 2),
            *_block(256, 512, 3), *_block(512, 512, 3, dilation=2),
            *_block(512, 512, 3, dilation=2), *_block(512, 512, 3),
            nn.ConvTranspose2d(512, 256, 4, stride=2, padding=1), nn.ReLU(inplace=True),
            *_block(256, 256, 2, bn=False), nn.Conv2d(256, 313, 1))
        self.decode = nn.Conv2d(313, 2, 1, bias=False)
        self.up = nn.Upsample(scale_factor=4, mode="bilinear", align_corners=False)

    def forward(self, L):
        return self.up(self.decode(torch.softmax(self.body(L), dim=1)))


class PaperHybrid(nn.Module):
    """Kiani et al. 2021 as published: the full-width hybrid with VGG16, ResNet50 and
    Inception-v3 branches (torchvision, random weights), fused by averaging."""

    def __init__(self):
        super().__init__()
        import torchvision.models as tvm

        from model.nets.network import HybridConfig, HybridNet

        self.branches = nn.ModuleList([
            tvm.vgg16(weights=None), tvm.resnet50(weights=None),
            tvm.inception_v3(weights=None, aux_logits=False, init_weights=False)])
        self.sizes = (224, 224, 299)
        self.net = HybridNet(HybridConfig(branches=("vgg16", "resnet50", "inception_v3")))

    def forward(self, L):
        import torch.nn.functional as F

        gray = L.repeat(1, 3, 1, 1)
        feats = torch.stack([torch.softmax(b(F.interpolate(gray, size=(s, s), mode="bilinear")), 1)
                             for b, s in zip(self.branches, self.sizes)], dim=1)
        return self.net(L, feats)
