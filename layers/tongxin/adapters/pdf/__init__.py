"""PDF documents (fpdf2, pure Python): the volunteer certificate (``certificate``). Imported only by the routes that
answer a PDF, so no other cold start pays for fpdf2 and fontTools."""
