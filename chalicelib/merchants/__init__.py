"""Merchants (店舗): registration by the chamber, status, and how consumers find them by QR."""
