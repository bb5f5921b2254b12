"""atheris harness for the spreadsheet readers (XLSX and CSV): only named errors escape.

    python fuzz/spreadsheet_fuzz.py -runs=5000

XLSX inputs are zips, so raw mutation mostly breaks the zip; half of the inputs are therefore
rebuilt as a valid zip whose sheet XML is the fuzzer's bytes, to reach openpyxl and our cell code.
"""

from __future__ import annotations

import io
import sys
import zipfile

import atheris

from fuzz.common import args_with_seeds, check_reason, seed_dir

with atheris.instrument_imports(include=["extractors"]):
    from extractors.spreadsheet import CsvReader, XlsxReader

from intake.core.errors import IntakeError
from intake.core.settings import Limits

LIMITS = Limits(max_uncompressed_bytes=20 * 1024 * 1024)
CONTENT_TYPES = ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                 '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                 'spreadsheetml.sheet.main+xml"/></Types>')
WORKBOOK = ('<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/>'
            '</sheets></workbook>')
RELS = ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        'Target="worksheets/sheet1.xml"/></Relationships>')


def _as_xlsx(sheet: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return buf.getvalue()


def test_one_input(data: bytes) -> None:
    xlsx, csv = XlsxReader(), CsvReader()
    for reader, blob in ((csv, data), (xlsx, data), (xlsx, _as_xlsx(data))):
        try:
            reader.read(blob, LIMITS, "fuzz")
        except IntakeError as exc:
            check_reason(exc)


def main() -> None:
    atheris.Setup(args_with_seeds(sys.argv, seed_dir(("*/*.csv", "*/*.xlsx"))), test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
