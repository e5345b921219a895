"""The 志愿服务记录证明 PDF, rendered from a certificate's SNAPSHOT (usecases/certificates.snapshot): never from the
live record, so a later correction never changes an issued certificate.

fpdf2 lays it out on A4 in Chinese with ``fonts/TongxinSans-GB2312.ttf`` (a GB2312 subset of 文泉驿微米黑, made by
``infra/deploy/make_cert_font.py``), which fpdf2 subsets again per document: only the glyphs used are embedded. A
character outside the font (a rare name beyond GB2312) is drawn as ``□`` — docs/api.md "志愿服务记录证明" says so. The QR
code of the public check page is drawn as filled squares (qrcode's matrix), so no image library is needed: fpdf2
runs without Pillow (the layer ships none)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

FONT_FILE = Path(__file__).resolve().parent / "fonts" / "TongxinSans-GB2312.ttf"
FONT = "TongxinSans"
MISSING = "□"
TITLE = "志愿服务记录证明"
COLUMNS = (("日期", 24), ("服务项目（活动或心愿）", 48), ("服务地点", 48), ("时长(分)", 20), ("组织者", 30))
NOTE = ("本证明依据《志愿服务记录与证明出具办法》，根据本社区的志愿服务记录出具（谁记录谁证明），反映出具之日的记录；"
        "此后记录的更正不改变本证明，如需请重新申请。扫描二维码或访问下方地址，输入志愿者姓名即可核验真伪。")


@lru_cache(maxsize=1)
def _covered() -> frozenset[int]:
    from fontTools.ttLib import TTFont
    font = TTFont(str(FONT_FILE), lazy=True)
    return frozenset(font.getBestCmap())


def printable(text: str | None) -> str:
    """``text`` with every character the font lacks replaced by ``□`` (control characters dropped)."""
    covered = _covered()
    out = []
    for char in text or "":
        if char in "\r\n\t":
            out.append(" ")
        elif ord(char) < 0x20:
            continue
        else:
            out.append(char if ord(char) in covered else MISSING)
    return "".join(out)


def _hours(minutes: int) -> str:
    hours, rest = divmod(int(minutes), 60)
    if not hours:
        return f"{rest} 分钟"
    return f"{hours} 小时" + (f" {rest} 分钟" if rest else "")


def _qr(pdf, url: str, x: float, y: float, size: float) -> None:
    """The check page's URL as a QR code of ``size`` mm at (x, y): one filled square per dark module."""
    import qrcode
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    code.add_data(url)
    code.make(fit=True)
    matrix = code.get_matrix()
    cell = size / len(matrix)
    pdf.set_fill_color(0, 0, 0)
    for row, modules in enumerate(matrix):
        start = None
        for col, dark in enumerate(list(modules) + [False]):
            if dark and start is None:
                start = col
            elif not dark and start is not None:  # a run of dark modules: one rectangle
                pdf.rect(x + start * cell, y + row * cell, (col - start) * cell, cell, style="F")
                start = None


LINE_HEIGHT, PAD = 4.4, 0.9
ALIGN_RIGHT = {3}  # the minutes


def _wrap(pdf, text: str, width: float, widths: dict) -> list[str]:
    """``text`` broken into lines that fit ``width`` mm (greedy, by character: Chinese has no spaces to break at)."""
    lines, current, used = [], "", 0.0
    for char in text:
        w = widths.get(char)
        if w is None:
            w = widths[char] = pdf.get_string_width(char)
        if current and used + w > width:
            lines.append(current)
            current, used = "", 0.0
        current += char
        used += w
    return lines + [current] if current or not lines else lines


def _table(pdf, heading: list[str], rows: list[list[str]]) -> None:
    """The services as a ruled table, heading repeated on each page. Drawn with ``text`` and ``line`` directly:
    fpdf2's own ``table`` lays every cell out through ``multi_cell`` (≈ 10 ms a row), too slow for 500 rows."""
    widths: dict[str, float] = {}
    columns = [w for _, w in COLUMNS]
    left = pdf.l_margin
    bottom = pdf.h - pdf.b_margin

    def row(cells: list[str], *, shaded: bool) -> None:
        wrapped = [_wrap(pdf, cell, width - 2 * PAD, widths) for cell, width in zip(cells, columns)]
        height = max(len(parts) for parts in wrapped) * LINE_HEIGHT + 2 * PAD
        if pdf.get_y() + height > bottom:
            pdf.add_page()
            row(heading, shaded=True)
        top, x = pdf.get_y(), left
        if shaded:
            pdf.set_fill_color(230, 230, 230)
            pdf.rect(left, top, sum(columns), height, style="F")
        for i, (parts, width) in enumerate(zip(wrapped, columns)):
            for n, part in enumerate(parts):
                offset = width - PAD - pdf.get_string_width(part) if i in ALIGN_RIGHT and not shaded else PAD
                pdf.text(x + offset, top + PAD + (n + 0.78) * LINE_HEIGHT, part)
            pdf.line(x, top, x, top + height)
            x += width
        pdf.line(x, top, x, top + height)
        pdf.line(left, top, x, top)
        pdf.line(left, top + height, x, top + height)
        pdf.set_y(top + height)

    pdf.set_draw_color(120, 120, 120)
    pdf.set_line_width(0.15)
    row(heading, shaded=True)
    for cells in rows[:-1]:
        row(cells, shaded=False)
    row(rows[-1], shaded=True)  # 合计
    pdf.set_x(left)


def render(snapshot: dict, *, check_url: str) -> bytes:
    """The PDF's bytes. ``snapshot``: number, name, volunteer_number, from, to, purpose, lines ([date, title, place,
    minutes, organiser, kind]), total_minutes, star_level, issuer, signatory, handler, issued_on, revoked,
    revoked_on."""
    import warnings
    with warnings.catch_warnings():  # "Pillow could not be imported": the layer ships none, on purpose (no images)
        warnings.simplefilter("ignore", UserWarning)
        from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(f"{TITLE} {snapshot['number']}")
    pdf.set_author(printable(snapshot["issuer"]))
    pdf.set_creator("同心 Tongxin")
    if snapshot.get("issued_at") is not None:  # the same snapshot, the same bytes (no render-time clock inside)
        pdf.set_creation_date(snapshot["issued_at"])
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_font(FONT, fname=str(FONT_FILE))
    pdf.add_page()
    width = pdf.epw

    pdf.set_font(FONT, size=22)
    pdf.cell(width, 14, TITLE, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    pdf.cell(width, 6, f"证明编号：{snapshot['number']}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    lines = snapshot["lines"]
    total = int(snapshot["total_minutes"])
    star = snapshot.get("star_level")
    pdf.set_font(FONT, size=12)
    text = (f"兹证明 {snapshot['name']}（志愿者编号：{snapshot['volunteer_number']}）于 {snapshot['from']} 至 "
            f"{snapshot['to']} 期间在{snapshot['issuer']}参加志愿服务 {len(lines)} 次，累计服务时长 "
            f"{_hours(total)}（{total} 分钟）。星级：{star + '志愿者' if star else '未达一星（100 小时）'}。")
    pdf.multi_cell(width, 7.5, printable(text), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    pdf.set_font(FONT, size=10.5)
    pdf.multi_cell(width, 6, printable(f"证明用途：{snapshot.get('purpose') or '—'}"), new_x="LMARGIN", new_y="NEXT")
    if snapshot.get("revoked"):
        pdf.set_text_color(200, 0, 0)
        pdf.set_font(FONT, size=13)
        pdf.multi_cell(width, 8, f"本证明已于 {snapshot.get('revoked_on') or ''} 撤销，不再有效。", new_x="LMARGIN",
                       new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    pdf.ln(3)

    pdf.set_font(FONT, size=9)
    rows = [[day, printable(title) or "—", printable(place) or "—", str(minutes), printable(organiser) or "—"]
            for day, title, place, minutes, organiser, *_ in lines]
    rows.append(["合计", f"{len(lines)} 次", "", str(total), _hours(total)])
    _table(pdf, [name for name, _ in COLUMNS], rows)
    pdf.ln(6)

    if pdf.will_page_break(62):  # the signature block and the note stay together
        pdf.add_page()
    top = pdf.get_y()
    pdf.set_font(FONT, size=11)
    for label, value in (("出具单位", snapshot["issuer"]), ("负责人", snapshot.get("signatory") or "—"),
                         ("经办人", snapshot.get("handler") or "—"), ("出具日期", snapshot["issued_on"]),
                         ("证明编号", snapshot["number"])):
        pdf.cell(width - 45, 7.5, printable(f"{label}：{value}"), new_x="LMARGIN", new_y="NEXT")
    _qr(pdf, check_url, pdf.l_margin + width - 38, top, 36)
    pdf.set_xy(pdf.l_margin + width - 45, top + 37)
    pdf.set_font(FONT, size=7.5)
    pdf.cell(45, 4, "扫码核验", align="C")
    pdf.set_xy(pdf.l_margin, max(pdf.get_y(), top + 42))
    pdf.ln(2)
    pdf.set_font(FONT, size=8.5)
    pdf.set_text_color(80, 80, 80)
    pdf.multi_cell(width, 5, NOTE, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(width, 5, f"核验地址：{check_url}", new_x="LMARGIN", new_y="NEXT", link=check_url)
    return bytes(pdf.output())
