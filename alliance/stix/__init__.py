"""STIX 2.1: indicators (assertions) as STIX objects and STIX bundles as indicator submissions.

``conversion`` is pure (assertions in, STIX dicts out); ``patterns`` builds and reads STIX
patterns; ``markings`` maps TLP; ``extensions`` publishes this instance's extension
definitions; ``importing`` runs a bundle through the indicators service.
"""
