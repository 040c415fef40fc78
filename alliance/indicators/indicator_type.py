from __future__ import annotations

from enum import StrEnum


class IndicatorType(StrEnum):
    SELLER_ACCOUNT = "seller_account"
    STOREFRONT_URL = "storefront_url"
    LISTING_URL = "listing_url"
    DOMAIN = "domain"
    KEYWORD = "keyword"
    BRAND_MISSPELLING = "brand_misspelling"
    PHONE = "phone"
    EMAIL = "email"
    PAYMENT_ACCOUNT = "payment_account"
    ADDRESS = "address"
    WAYBILL = "waybill"
    IMAGE_PHASH = "image_phash"
    IMAGE_PDQ = "image_pdq"
    GTIN = "gtin"
    SERIAL_PATTERN = "serial_pattern"
    IP = "ip"
