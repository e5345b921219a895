"""Makes the Chinese font the certificate PDFs embed (志愿服务记录证明, tongxin/adapters/pdf): a SUBSET of
WenQuanYi Micro Hei (文泉驿微米黑, Apache-2.0 — the licence file sits beside the result) holding GB2312's characters
(its 6,763 hanzi and 682 symbols), printable ASCII and the CJK/full-width punctuation a certificate uses. Run once at
development time; the result is committed, so neither the build nor Lambda needs the full font or this script:

    apt-get install fonts-wqy-microhei          # Debian: /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
    python -m infra.deploy.make_cert_font              # writes layers/tongxin/adapters/pdf/fonts/TongxinSans-GB2312.ttf

fontTools (a runtime dependency of fpdf2, which subsets again per document) does the work. Characters outside
the subset (rare names: 生僻字 beyond GB2312) are drawn as □ by the PDF adapter (docs/api.md "志愿服务记录证明").
"""
from __future__ import annotations

import argparse
from pathlib import Path

SOURCE = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
OUT = Path(__file__).resolve().parents[2] / "layers" / "tongxin" / "adapters" / "pdf" / "fonts" / \
    "TongxinSans-GB2312.ttf"
EXTRA = "·—–‘’“”…、。〈〉《》「」『』【】〔〕（），：；？！～￥№℃○●□■△▲※→←↑↓"


def gb2312() -> str:
    """Every character GB2312 encodes: rows 0xA1–0xF7, cells 0xA1–0xFE (the empty positions decode to nothing)."""
    chars = []
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.append(bytes((high, low)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return "".join(chars)


def characters() -> str:
    return "".join(sorted(set(gb2312() + "".join(chr(c) for c in range(0x20, 0x7F)) + EXTRA)))


def make(source: Path = SOURCE, out: Path = OUT) -> Path:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(str(source), fontNumber=0)  # the collection's first face: 文泉驿微米黑 (proportional)
    options = subset.Options()
    options.layout_features = []  # no shaping needed for CJK in a table; keeps it small
    options.name_IDs = ["*"]  # keep the copyright and licence names
    options.notdef_outline = True
    options.hinting = False
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(text=characters())
    subsetter.subset(font)
    out.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(out))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    made = make(args.source, args.out)
    print(f"{made}: {made.stat().st_size / 1e6:.2f} MB, {len(characters())} characters")


if __name__ == "__main__":
    main()
