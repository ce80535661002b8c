"""The office's Billing & stock window: ``window.py`` holds the tabs together and keeps
them live; one module per tab (``not_invoiced``, ``aging``, ``stock``, ``price_book``),
the stock forms (``stock_forms``), and the item model the lists share (``rows``)."""
