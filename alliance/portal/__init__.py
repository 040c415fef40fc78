"""The members' portal: server-rendered pages under ``/portal`` over the same services as the API."""
