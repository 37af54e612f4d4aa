"""Web pages served by the app itself: the merchant console, the consumer pay flow, the operator pages.

``pages`` renders the HTML shells and applies the page security headers; ``assets`` serves the
scripts, the stylesheet and the vendored QR decoder from ``assets/``. Nothing is loaded from
another origin.
"""
