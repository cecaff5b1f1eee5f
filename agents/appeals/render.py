"""Appeal letters as plain text and as PDF (fpdf2, core fonts)."""

from fpdf import FPDF

from agents.appeals.letter import AppealLetter

# Core PDF fonts hold Latin-1 only: typographic punctuation is mapped, anything else becomes "?".
_PLAIN = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "…": "...", "•": "-"})
FONT_SIZE = 10.5
LINE_HEIGHT = 5.2


def render_text(letter: AppealLetter) -> str:
    return letter.text.rstrip() + "\n"


def render_pdf(letter: AppealLetter) -> bytes:
    """One letter-size PDF of the letter text; returns its bytes."""
    pdf = FPDF(format="letter")
    pdf.set_title(letter.subject)
    pdf.set_creator("Fovea")
    pdf.set_margins(22, 20, 22)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    pdf.set_font("Helvetica", size=FONT_SIZE)
    text = render_text(letter).translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")
    for paragraph in text.split("\n"):
        pdf.multi_cell(0, LINE_HEIGHT, paragraph or " ", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
