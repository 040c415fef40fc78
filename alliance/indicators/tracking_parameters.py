"""Query parameters that say how a visitor arrived, not what the page is.

Dropped from storefront and listing URLs so the same page shared from a campaign, a search
result or an app share sheet is one indicator. Names are compared case-insensitively. The list
leans on names that are tracking wherever they appear; a name that selects content on some
sites (``tag``, ``id``, ``from``) is kept.
"""

from __future__ import annotations

TRACKING_PARAMETERS = frozenset(
    {
        # Alibaba group (Taobao, Tmall, AliExpress, 1688)
        "spm", "scm", "spm_id_from", "ali_trackid", "ali_refid", "pvid", "utparam",
        "btsid", "ws_ab_test", "sk", "terminal_id", "afsmartredirect", "gatewayadapt",
        "pdp_npi", "pdp_ext_f", "_randl_currency", "_randl_shipto",
        # Amazon
        "ref", "ref_", "qid", "sr", "crid", "sprefix", "dib", "dib_tag", "_encoding",
        "linkcode", "linkid", "ascsubtag", "content-id", "psc",
        # eBay
        "_trksid", "_trkparms", "mkcid", "mkrid", "mkevt", "campid", "toolid", "customid",
        # Shopee, Lazada
        "sp_atk", "xptdk", "smtt", "uls_trackid", "clicktrackinfo",
        # Ad networks, analytics, social share links
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "ysclid",
        "igshid", "igsh", "twclid", "ttclid", "li_fat_id", "epik", "srsltid", "s_cid",
        "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "_openstat",
        "oly_anon_id", "oly_enc_id", "vero_id", "wickedid", "ref_src", "share_source",
    }
)  # fmt: skip

TRACKING_PREFIXES = ("utm_", "pf_rd_", "pd_rd_", "hsa_", "itm_", "aff_", "algo_")


def is_tracking_parameter(name: str) -> bool:
    folded = name.casefold()
    return folded in TRACKING_PARAMETERS or folded.startswith(TRACKING_PREFIXES)
