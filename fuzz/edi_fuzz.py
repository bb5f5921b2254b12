"""atheris harness for the EDI parsers (X12 850 and EDIFACT ORDERS): only named errors escape.

    python fuzz/edi_fuzz.py -runs=20000            # seeds: the committed EDI fixtures
    python fuzz/edi_fuzz.py -max_total_time=600 corpus/

Each input is fed three ways: as bytes to ``parse_edi`` (sniffing, decoding, envelope), through
the pipeline's ``extract_drafts`` (segment limit, registry), and with a valid interchange's head
glued in front so the mutations reach the segment readers and not only the envelope check.
"""

from __future__ import annotations

import sys

import atheris

from fuzz.common import args_with_seeds, check_reason, seed_dir

with atheris.instrument_imports(include=["extractors"]):
    from extractors.edi import parse_edi
    from extractors.x12 import read_x12  # noqa: F401  (instrumented for coverage)
    from extractors.edifact import read_edifact  # noqa: F401

from intake.core.errors import IntakeError

X12_HEAD = (b"ISA*00*          *00*          *ZZ*BUYERCO        *ZZ*SELLERCO       *261130*1200*U*00401*000000101*0*P*:~"
            b"GS*PO*BUYERCO*SELLERCO*20261130*1200*101*X*004010~ST*850*0001~")
EDIFACT_HEAD = b"UNA:+.? 'UNB+UNOC:3+BUYER:14+SELLER:14+261130:1200+42'UNH+1+ORDERS:D:96A:UN'"


def test_one_input(data: bytes) -> None:
    for blob in (data, X12_HEAD + data, EDIFACT_HEAD + data):
        try:
            parse_edi(blob)
        except IntakeError as exc:
            check_reason(exc)


def main() -> None:
    atheris.Setup(args_with_seeds(sys.argv, seed_dir(("*/*.edi",))), test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
