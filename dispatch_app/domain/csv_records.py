"""A CSV file's rows as a spreadsheet wrote them, for the imports (the price book, a
phone system's call log): read strictly, and the first row that cannot be read named
by its number with a sentence a person can act on."""

from __future__ import annotations

import csv
import io


def csv_records(
    text: str, *, delimiter: str = ",", cell: str = "field"
) -> tuple[list[list[str]], str | None]:
    """The rows as lists of cells, up to the first that cannot be read as CSV, and the
    sentence about that one (None when every row reads). ``cell`` is the file's word
    for one value ("field", "cell")."""
    records: list[list[str]] = []
    # Strict: a quote never closed, or text after a closing quote, is refused rather
    # than read as one cell swallowing the rows after it.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        for record in reader:
            records.append(record)
    except csv.Error as error:
        at = f"Row {len(records) + 1}:"
        said = str(error)
        if "field larger than field limit" in said:
            return records, f"{at} a {cell} is over {csv.field_size_limit():,} characters long."
        if "unexpected end of data" in said:
            return records, f'{at} a quote (") opens a {cell} that is never closed.'
        if "expected after" in said:
            return records, (
                f"{at} text follows a {cell}'s closing quote; put the whole {cell} in quotes "
                'and double any quote inside it ("").'
            )
        return records, f"{at} the row cannot be read as CSV ({said})."
    return records, None
