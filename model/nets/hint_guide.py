"""The spatial model's hint guide: what the user's colour hints mean for every stage of
its decoder."""

from __future__ import annotations

import torch
from torch import nn

HINT_CHANNELS = 3  # a and b (normalised, zero where no hint) and the hint mask


def _conv_relu(cin: int, cout: int, stride: int = 1, k: int = 3) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2), nn.ReLU(inplace=True)]


class HintGuide(nn.Module):
    """What the hints mean for every decoder stage.

    Through the decoder's pooled hint channels alone, 10 true hints gained only 0.02-0.19
    dB (docs/results.md): the frozen encoder never sees them and each decoder stage sees
    them only as a few averaged cells. This encoder reads the hints together with the
    lightness at full resolution (as Zhang et al. 2017 feed them to the first layer) down
    to stride 16, and after each decoder stage a residual computed from the stage's own
    maps and the guide's is added. The residual's last convolution starts at zero and the
    whole residual is multiplied by "this photo has hints", so without hints the output
    is exactly the automatic model's.
    """

    def __init__(self, width: int, decoder: tuple[int, ...]):
        super().__init__()
        w = width
        chans = (2 * w, 2 * w, w, w)  # at strides 16, 8, 4, 2
        self.down = nn.ModuleList([
            nn.Sequential(*_conv_relu(1 + HINT_CHANNELS, w, 2), *_conv_relu(w, w)),   # 2
            nn.Sequential(*_conv_relu(w, w, 2), *_conv_relu(w, w)),                    # 4
            nn.Sequential(*_conv_relu(w, 2 * w, 2), *_conv_relu(2 * w, 2 * w)),        # 8
            nn.Sequential(*_conv_relu(2 * w, 2 * w, 2), *_conv_relu(2 * w, 2 * w)),    # 16
        ])
        self.mix = nn.ModuleList()
        for k, (d, c) in enumerate(zip(decoder[1:], chans)):
            last = nn.Conv2d(d, d, 1)
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
            # 3×3 where the maps are small (strides 16, 8), 1×1 at strides 4 and 2
            self.mix.append(nn.Sequential(*_conv_relu(d + c, d, k=3 if k < 2 else 1), last))

    def maps(self, L: torch.Tensor, hints: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """(the guide's maps at strides 16, 8, 4, 2; N×1×1×1 "has hints")."""
        x = torch.cat([L, hints], 1)
        out = []
        for block in self.down:
            x = block(x)
            out.append(x)
        gate = (hints[:, 2:].amax((2, 3), keepdim=True) > 0).to(L.dtype)
        return out[::-1], gate

    def steer(self, k: int, x: torch.Tensor, guide: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
        """Decoder stage ``k``'s maps (0: stride 16 … 3: stride 2), steered by the guide."""
        return x + gate * self.mix[k](torch.cat([x, guide.to(x.dtype)], 1))
