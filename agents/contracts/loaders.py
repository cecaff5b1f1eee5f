"""Contract text from a file: plain text through langchain-community's TextLoader, PDF through PyPDFLoader."""

import tempfile
from pathlib import Path

PDF_SUFFIXES = frozenset({".pdf"})
TEXT_SUFFIXES = frozenset({".txt", ".text", ".md"})


class ContractSourceError(ValueError):
    """The file cannot be read as contract prose; the message says what to do."""


def _pdf_text(path: Path) -> str:
    from langchain_community.document_loaders import PyPDFLoader
    from pypdf.errors import PyPdfError

    try:
        pages = PyPDFLoader(str(path)).load()
    except PyPdfError as exc:
        raise ContractSourceError(f"{path.name}: not a readable PDF ({exc})") from None
    text = "\n\n".join(page.page_content for page in pages)
    if not text.strip():
        # A scanned contract is pictures of pages: there is no text layer to cite sentences from.
        raise ContractSourceError(
            f"{path.name}: the PDF has no text layer (a scan?); run it through OCR or upload the text"
        )
    return text


def load_contract_text(path: Path) -> str:
    """The prose of a contract file: pages of a PDF joined by blank lines, or the text file as is."""
    suffix = path.suffix.lower()
    if suffix in PDF_SUFFIXES:
        return _pdf_text(path)
    if suffix in TEXT_SUFFIXES or not suffix:
        from langchain_community.document_loaders import TextLoader

        try:
            documents = TextLoader(str(path), autodetect_encoding=True).load()
        except RuntimeError as exc:
            raise ContractSourceError(f"{path.name}: not a readable text file") from exc
        return "\n\n".join(document.page_content for document in documents)
    raise ContractSourceError(f"{path.name}: contract prose must be .txt or .pdf")


def load_contract_bytes(content: bytes, filename: str) -> str:
    """The same for an upload: the bytes go through a temporary file the loaders can open."""
    suffix = Path(filename).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="fovea-contract-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(content)
        return load_contract_text(path)
