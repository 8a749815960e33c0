"""mmdb's ResNet against torchvision's resnet18/resnet50 (when this python
has torchvision) or else against a torch.nn.functional transcription of
torchvision's layout, on random weights with random BatchNorm statistics:
logits must agree within 1e-4 (fp32, CPU, eval).
usage: parity_resnet.py MMDB TMPDIR [torchvision|functional]"""
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402

TOL = 1e-4
mmdb, tmp, mode = sys.argv[1], sys.argv[2], sys.argv[3]
torch.manual_seed(0)
torch.set_num_threads(2)
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
ARCH = {"resnet18": (False, [2, 2, 2, 2]), "resnet50": (True, [3, 4, 6, 3])}
failed = 0


def functional_resnet(s, bottleneck, blocks, x):
    """torchvision's ResNet forward, written out from its source."""
    def bn(p, y):
        return F.batch_norm(y, s[p + ".running_mean"], s[p + ".running_var"], s[p + ".weight"], s[p + ".bias"],
                            False, 0.0, 1e-5)
    y = F.relu(bn("bn1", F.conv2d(x, s["conv1.weight"], stride=2, padding=3)))
    y = F.max_pool2d(y, 3, 2, 1)
    for li, n in enumerate(blocks):
        for bi in range(n):
            p = f"layer{li + 1}.{bi}"
            stride = 2 if bi == 0 and li > 0 else 1
            idt = y
            if p + ".downsample.0.weight" in s:
                idt = bn(p + ".downsample.1", F.conv2d(y, s[p + ".downsample.0.weight"], stride=stride))
            if bottleneck:
                z = F.relu(bn(p + ".bn1", F.conv2d(y, s[p + ".conv1.weight"])))
                z = F.relu(bn(p + ".bn2", F.conv2d(z, s[p + ".conv2.weight"], stride=stride, padding=1)))
                z = bn(p + ".bn3", F.conv2d(z, s[p + ".conv3.weight"]))
            else:
                z = F.relu(bn(p + ".bn1", F.conv2d(y, s[p + ".conv1.weight"], stride=stride, padding=1)))
                z = bn(p + ".bn2", F.conv2d(z, s[p + ".conv2.weight"], padding=1))
            y = F.relu(z + idt)
    y = F.adaptive_avg_pool2d(y, 1).flatten(1)
    return F.linear(y, s["fc.weight"], s["fc.bias"])


def randomise(state):
    """Random weights and BatchNorm statistics at the scale of a trained
    network (logits of order 10): the last BatchNorm of each block is scaled
    down as in zero-init-residual training, so activations do not explode."""
    g = torch.Generator().manual_seed(2)
    last = "bn3" if any(".bn3." in k for k in state) else "bn2"
    out = {}
    for k, v in state.items():
        if k.endswith("num_batches_tracked"):
            out[k] = v.clone()
        elif f".{last}.weight" in k:
            out[k] = torch.rand(v.shape, generator=g) * 0.2 + 0.1
        elif k == "fc.weight":
            out[k] = torch.randn(v.shape, generator=g) * (1.0 / v.shape[1]) ** 0.5
        elif k.endswith("running_var") or (k.endswith(".weight") and v.dim() == 1):
            out[k] = torch.rand(v.shape, generator=g) * 0.5 + 0.75
        elif k.endswith("running_mean") or k.endswith(".bias"):
            out[k] = torch.randn(v.shape, generator=g) * 0.1
        else:
            fan_in = v[0].numel()
            out[k] = torch.randn(v.shape, generator=g) * (2.0 / fan_in) ** 0.5
    return out


for name, (bottleneck, blocks) in ARCH.items():
    if mode == "torchvision":
        import torchvision
        net = getattr(torchvision.models, name)(weights=None).eval()
        state = randomise(net.state_dict())
        net.load_state_dict(state)
    else:
        # the state dict torchvision would have: the names come from the layout
        state = {}
        w = 64
        def conv(k, o, i, kk):
            state[k + ".weight"] = torch.zeros(o, i, kk, kk)
        def bnp(k, c):
            for n in ("weight", "bias", "running_mean", "running_var"):
                state[f"{k}.{n}"] = torch.zeros(c)
            state[k + ".num_batches_tracked"] = torch.zeros((), dtype=torch.int64)
        conv("conv1", w, 3, 7); bnp("bn1", w)
        inp, exp = w, 4 if bottleneck else 1
        for li, n in enumerate(blocks):
            planes = w << li
            for bi in range(n):
                p = f"layer{li + 1}.{bi}"
                stride = 2 if bi == 0 and li > 0 else 1
                if bottleneck:
                    conv(p + ".conv1", planes, inp, 1); bnp(p + ".bn1", planes)
                    conv(p + ".conv2", planes, planes, 3); bnp(p + ".bn2", planes)
                    conv(p + ".conv3", planes * 4, planes, 1); bnp(p + ".bn3", planes * 4)
                else:
                    conv(p + ".conv1", planes, inp, 3); bnp(p + ".bn1", planes)
                    conv(p + ".conv2", planes, planes, 3); bnp(p + ".bn2", planes)
                if stride != 1 or inp != planes * exp:
                    conv(p + ".downsample.0", planes * exp, inp, 1); bnp(p + ".downsample.1", planes * exp)
                inp = planes * exp
        state["fc.weight"] = torch.zeros(1000, inp)
        state["fc.bias"] = torch.zeros(1000)
        state = randomise(state)
    weights = os.path.join(tmp, name + ".safetensors")
    st.save(weights, state)
    S, B = 96, 2
    pixels = torch.randint(0, 256, (B, S, S, 3), dtype=torch.uint8)
    inp_path, out_path = os.path.join(tmp, "in.safetensors"), os.path.join(tmp, "out.safetensors")
    st.save(inp_path, {"pixels": pixels.numpy()})
    r = subprocess.run([mmdb, "model", "forward", "--image", name, "--weights", weights,
                        "--inputs", inp_path, "--out", out_path], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"not ok - mmdb model forward {name}: {r.stderr.strip()}")
        sys.exit(1)
    if "missing (0)" not in r.stderr or "unexpected (0)" not in r.stderr:
        print(f"not ok - {name}: load report:\n{r.stderr}")
        failed += 1
    got = torch.from_numpy(st.load(out_path)["features"].copy())
    x = (pixels.permute(0, 3, 1, 2).float() / 255 - MEAN) / STD
    with torch.no_grad():
        ref = net(x) if mode == "torchvision" else functional_resnet(state, bottleneck, blocks, x)
    diff = (got - ref).abs().max().item()
    scale = ref.abs().max().item()
    ok = diff < TOL
    failed += not ok
    what = "torchvision " + torchvision.__version__ if mode == "torchvision" else "a torch.nn.functional ResNet"
    print(f"{'ok' if ok else 'not ok'} - {name} logits vs {what}: max |diff| {diff:.2e} "
          f"(logits up to {scale:.2f}, tolerance {TOL:g})")
sys.exit(1 if failed else 0)
