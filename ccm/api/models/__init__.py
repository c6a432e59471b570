"""The API's request and response models, one module per resource.

Requests are validated here (unknown fields refused, bounded strings); responses
document the JSON the library's ``to_dict()`` gives, for the OpenAPI document.
"""
