"""Plain QR images (PNG/SVG) for printed posters when a WeChat mini-program code is not wanted.
Imported only by the routes that draw one."""
from __future__ import annotations

import io

import qrcode
import qrcode.image.pure
import qrcode.image.svg


def render(text: str, fmt: str) -> tuple[bytes, str]:
    """Return ``(bytes, content_type)`` for ``fmt`` ``png`` or ``svg``."""
    factory = qrcode.image.svg.SvgPathImage if fmt == "svg" else qrcode.image.pure.PyPNGImage
    image = qrcode.make(text, image_factory=factory, box_size=10, border=4)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue(), ("image/svg+xml" if fmt == "svg" else "image/png")
