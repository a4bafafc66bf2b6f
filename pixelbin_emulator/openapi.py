"""The OpenAPI 3.1 description of every route the emulator serves, built in code.

Served at ``GET /openapi.json``. Each operation's ``operationId`` is the Flask endpoint that
serves it (``files.get_file_by_id``), so a test can hold the description and the URL map to each
other, and a response can be checked against the schema of the operation that produced it.
Path parameters keep the Flask names; ``{file_id}`` and ``{folder_id}`` and ``{cdn_path}`` may
contain ``/`` (Flask's ``path`` converter), which OpenAPI cannot say in a template.

Response shapes are strict (``additionalProperties: false``) where the emulator owns them, so a
field added to a serializer without a line here fails the test suite instead of drifting.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from .api import wire
from .api.wire import assets as wire_assets
from .api.wire import control as wire_control
from .api.wire import credentials as wire_credentials
from .api.wire import modules as wire_modules
from .api.wire import predictions as wire_predictions
from .api.wire import presets as wire_presets
from .api.wire import uploads as wire_uploads
from .api.wire.forms import form_body
from .core.records import ACCESS_VALUES
from .core.signed_uploads import MULTIPART_PARAMS

Schema = dict[str, Any]
# An operation's security requirements: any one of them lets a request in.
Security = list[dict[str, list[str]]]

ASSETS = "/service/platform/assets/v1.0"
ASSETS_V2 = "/service/platform/assets/v2.0"
ORGANIZATION = "/service/platform/organization/v1.0"
PUBLIC = "/service/public/assets/v1.0"

JSON = "application/json"


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    """A closed object: the ``required`` properties always, the ``optional`` ones maybe."""
    return {
        "type": "object",
        "properties": required | (optional or {}),
        "required": list(required),
        "additionalProperties": False,
    }


def nullable(schema: Schema) -> Schema:
    return {"oneOf": [schema, {"type": "null"}]}


STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
NUMBER: Schema = {"type": "number"}
BOOLEAN: Schema = {"type": "boolean"}
ANY_OBJECT: Schema = {"type": "object"}
STRINGS: Schema = {"type": "array", "items": STRING}
TIMESTAMP: Schema = {"type": "string", "format": "date-time"}
ACCESS: Schema = {"type": "string", "enum": list(ACCESS_VALUES)}

# -- component schemas ---------------------------------------------------------------------------

SCHEMAS: dict[str, Schema] = {
    # The files and folders APIs' bodies and answers and the listing pages.
    **wire.schemas(*wire_assets.REQUESTS, *wire_assets.RESPONSES),
    "Error": obj(
        {
            "message": STRING,
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "code": {"type": "string", "pattern": "^CG-0[45][0-9]{2}$"},
            "exception": STRING,
        }
    ),
    "AppOrgDetails": obj(
        {
            "app": obj(
                {
                    "_id": INTEGER,
                    "orgId": INTEGER,
                    "name": STRING,
                    "token": STRING,
                    "permissions": STRINGS,
                    "active": BOOLEAN,
                    "createdAt": TIMESTAMP,
                    "updatedAt": TIMESTAMP,
                }
            ),
            "org": obj(
                {
                    "_id": INTEGER,
                    "name": STRING,
                    "cloudName": STRING,
                    "ownerId": {"type": "string", "pattern": "^[0-9a-f]{24}$"},
                    "active": BOOLEAN,
                    "createdAt": TIMESTAMP,
                    "updatedAt": TIMESTAMP,
                    "restrictions": {"type": "array"},
                    "rateLimit": nullable(ANY_OBJECT),
                }
            ),
        }
    ),
}

# -- responses -----------------------------------------------------------------------------------

_ERROR_MEANINGS = {
    400: "Bad input (wrong types, invalid names, rule violations); state is unchanged",
    401: "Missing or invalid credentials (on the CDN: a private file without a signature)",
    403: "Signature invalid or expired, access denied, or module credentials missing",
    404: "Not found",
    409: "Conflicts with something that exists",
    413: "Request body larger than the server accepts",
    416: "Range not satisfiable",
}


def json_response(description: str, schema: Schema) -> Schema:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def error_responses(*statuses: int) -> dict[str, Schema]:
    return {str(s): json_response(_ERROR_MEANINGS[s], ref("Error")) for s in statuses}


# -- parameters and bodies -----------------------------------------------------------------------


def path_param(name: str, description: str) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "minLength": 1},
    }


def query(name: str, schema: Schema, description: str = "", required: bool = False) -> Schema:
    param = {"name": name, "in": "query", "required": required, "schema": schema}
    if description:
        param["description"] = description
    return param


def query_list(name: str, description: str) -> Schema:
    """A list sent as ``name[0]=a&name[1]=b`` (the Python/JS SDK encoding): a deepObject.

    Repeated ``name=a&name=b``, ``name[]=a`` and Go's ``name=[a b]`` are accepted too.
    """
    return {
        "name": name,
        "in": "query",
        "required": False,
        "style": "deepObject",
        "explode": True,
        "description": description + " Sent as `name[0]=a&name[1]=b` (also accepted: repeated"
        " `name=a&name=b`, `name[]=a`, and `name=[a b]`).",
        "schema": {
            "type": "object",
            "propertyNames": {"pattern": "^[0-9]+$"},
            "additionalProperties": STRING,
        },
    }


PAGING = {"pageNo": "Page number, from 1", "pageSize": "Items per page"}


def struct_query(kind: type[Any], **descriptions: str) -> list[Schema]:
    """The parameters of a query declared as a struct (``api/wire``), each with its
    generated schema; a list field takes the SDKs' list forms (:func:`query_list`)."""
    fields = wire.properties(kind)
    assert set(descriptions) <= set(fields), set(descriptions) - set(fields)
    params = []
    for name, (schema, required) in fields.items():
        description = descriptions.get(name, "")
        if schema.get("type") == "array":
            params.append(query_list(name, description))
        else:
            params.append(query(name, schema, description, required))
    return params


SIGNED_QUERY = [
    query(name, STRING, "Part of the signed URL", required=True) for name in MULTIPART_PARAMS
]


def json_body(schema: Schema, required: bool = True) -> Schema:
    return {"required": required, "content": {JSON: {"schema": schema}}}


BINARY: Schema = {"type": "string", "format": "binary"}

# -- operations ----------------------------------------------------------------------------------


def operation(
    endpoint: str,
    summary: str,
    responses: dict[str, Schema],
    *,
    tag: str,
    parameters: list[Schema] | None = None,
    body: Schema | None = None,
    security: Security | None = None,
) -> Schema:
    op: Schema = {"operationId": endpoint, "summary": summary, "tags": [tag]}
    if parameters:
        op["parameters"] = parameters
    if body is not None:
        op["requestBody"] = body
    op["responses"] = responses
    if security is not None:
        op["security"] = security
    return op


PUBLIC_ACCESS: list[dict[str, list[str]]] = []  # signed URLs carry their own authorisation


def _files() -> dict[str, dict[str, Schema]]:
    file_id = path_param("file_id", "The file's `fileId` (`path/name`), slashes included")
    return {
        f"{ASSETS}/files/id/{{_id}}": {
            "get": operation(
                "files.get_file_by_id",
                "getFileById",
                {"200": json_response("The file", ref("File")), **error_responses(401, 404)},
                tag="files",
                parameters=[path_param("_id", "The file's `_id`")],
            )
        },
        f"{ASSETS}/files/{{file_id}}": {
            "get": operation(
                "files.get_file_by_file_id",
                "getFileByFileId",
                {"200": json_response("The file", ref("File")), **error_responses(401, 404)},
                tag="files",
                parameters=[file_id],
            ),
            "patch": operation(
                "files.update_file",
                "updateFile: rename, move, access, isActive, tags, metadata",
                {
                    "200": json_response("The updated file", ref("File")),
                    **error_responses(400, 401, 404, 409, 413),
                },
                tag="files",
                parameters=[file_id],
                body=json_body(ref("FileUpdate"), required=False),
            ),
            "delete": operation(
                "files.delete_file",
                "deleteFile",
                {
                    "200": json_response("The deleted file", ref("File")),
                    **error_responses(401, 404),
                },
                tag="files",
                parameters=[file_id],
            ),
        },
        f"{ASSETS}/files/delete": {
            "post": operation(
                "files.delete_files",
                "deleteFiles: unknown `_id`s are skipped",
                {
                    "200": json_response(
                        "The deleted files", {"type": "array", "items": ref("File")}
                    ),
                    **error_responses(400, 401, 413),
                },
                tag="files",
                body=json_body(ref("FilesDelete")),
            )
        },
        f"{ASSETS}/listFiles": {
            "get": operation(
                "files.list_files",
                "listFiles: one folder's files and folders, a page at a time",
                {
                    "200": json_response("A page of items", ref("ListFilesResponse")),
                    **error_responses(400, 401),
                },
                tag="files",
                parameters=struct_query(
                    wire_assets.ListFilesQuery,
                    name="Substring of the name",
                    path="The folder to list (empty: the root)",
                    tags="Files carrying all of these tags.",
                    sort="A key (name, createdAt, updatedAt, size, format, type, fileId, path); "
                    "`-key` or `key-` descending",
                    **PAGING,
                ),
            )
        },
    }


def _folders() -> dict[str, dict[str, Schema]]:
    folder = {"200": json_response("The folder", ref("Folder"))}
    return {
        f"{ASSETS}/folders": {
            "post": operation(
                "folders.create_folder",
                "createFolder (creates missing ancestors)",
                {**folder, **error_responses(400, 401, 409, 413)},
                tag="folders",
                body=json_body(ref("FolderCreate")),
            ),
            "get": operation(
                "folders.get_folder_details",
                "getFolderDetails",
                {
                    "200": json_response("The folder", ref("FolderDetails")),
                    **error_responses(400, 401, 404),
                },
                tag="folders",
                parameters=struct_query(
                    wire_assets.FolderDetailsQuery,
                    name="The folder's name; without it, path names the folder",
                    path="The parent folder's path",
                ),
            ),
        },
        f"{ASSETS}/folders/{{folder_id}}": {
            "patch": operation(
                "folders.update_folder",
                "updateFolder (isActive); the folder is named by its full path",
                {**folder, **error_responses(400, 401, 404, 413)},
                tag="folders",
                parameters=[path_param("folder_id", "The folder's full path, slashes included")],
                body=json_body(ref("FolderUpdate"), required=False),
            ),
        },
        f"{ASSETS}/folders/{{_id}}": {
            "delete": operation(
                "folders.delete_folder",
                "deleteFolder, with everything in it",
                {**folder, **error_responses(401, 404)},
                tag="folders",
                parameters=[path_param("_id", "The folder's `_id`")],
            )
        },
        f"{ASSETS}/folders/{{_id}}/ancestors": {
            "get": operation(
                "folders.get_folder_ancestors",
                "getFolderAncestors",
                {
                    "200": json_response("The folder and its ancestors", ref("FolderAncestors")),
                    **error_responses(401, 404),
                },
                tag="folders",
                parameters=[path_param("_id", "The folder's `_id`")],
            )
        },
    }


def _uploads() -> dict[str, dict[str, Schema]]:
    uploaded = {"200": json_response("The stored file", ref("Upload"))}
    return {
        f"{ASSETS}/upload/direct": {
            "post": operation(
                "uploads.file_upload",
                "fileUpload",
                {**uploaded, **error_responses(400, 401, 413)},
                tag="uploads",
                body=form_body(wire_uploads.FileUploadForm),
            )
        },
        f"{ASSETS}/upload/url": {
            "post": operation(
                "uploads.url_upload",
                "urlUpload: data: URLs and this emulator's CDN URLs (others with --allow-fetch)",
                {**uploaded, **error_responses(400, 401, 413)},
                tag="uploads",
                body=json_body(ref("UrlUpload")),
            )
        },
        f"{ASSETS_V2}/upload/signed-url": {
            "post": operation(
                "signed_uploads.create_signed_url_v2",
                "createSignedUrlV2: a signed multipart upload URL",
                {
                    "200": json_response("The signed URL", ref("PresignedUrlV2")),
                    **error_responses(400, 401, 413),
                },
                tag="uploads",
                body=json_body(ref("SignedUploadV2"), required=False),
            )
        },
        f"{PUBLIC}/signed-multipart": {
            "put": operation(
                "signed_uploads.upload_part",
                "Upload one part (any order; a repeat replaces the part)",
                {"204": {"description": "Part stored"}, **error_responses(400, 403, 404, 413)},
                tag="uploads",
                parameters=[
                    *SIGNED_QUERY,
                    *struct_query(wire_uploads.PartQuery, partNumber="The part's number"),
                ],
                body=form_body(wire_uploads.PartForm),
                security=PUBLIC_ACCESS,
            ),
            "post": operation(
                "signed_uploads.complete_upload",
                "Complete the upload: the listed parts, in that order, become the file",
                {**uploaded, **error_responses(400, 403, 404, 413)},
                tag="uploads",
                parameters=SIGNED_QUERY,
                body=json_body(ref("MultipartComplete")),
                security=PUBLIC_ACCESS,
            ),
        },
        f"{ASSETS}/upload/signed-url": {
            "post": operation(
                "signed_uploads.create_signed_url",
                "createSignedUrl: an S3-style presigned POST",
                {
                    "200": json_response("The presigned POST", ref("PresignedUrlV1")),
                    **error_responses(400, 401, 413),
                },
                tag="uploads",
                body=json_body(ref("SignedUpload"), required=False),
            )
        },
        f"{PUBLIC}/s3/{{bucket}}": {
            "post": operation(
                "signed_uploads.post_object",
                "The presigned POST, answered as S3 answers (XML errors)",
                {
                    "200": {"description": "Stored (success_action_status=200)"},
                    "201": {
                        "description": "Stored (success_action_status=201)",
                        "content": {"application/xml": {"schema": STRING}},
                    },
                    "204": {"description": "Stored"},
                    **{
                        str(status): {
                            "description": "`<Error><Code>..</Code><Message>..</Message></Error>`",
                            "content": {"application/xml": {"schema": STRING}},
                        }
                        for status in (400, 403, 404)
                    },
                },
                tag="uploads",
                parameters=[path_param("bucket", "The bucket the presigned POST names")],
                body=form_body(wire_uploads.PresignedPostForm),
                security=PUBLIC_ACCESS,
            )
        },
    }


def _cdn_get(operation_id: str, version: str) -> Schema:
    prefix = f"/{version}" if version else ""
    parameters = [
        path_param(
            "cdn_path",
            "`{cloudName}[/{zone}]/{pattern}/{fileId}`; on an org's custom domain "
            "`[{zone}/]{pattern}/{fileId}`. URL Translation Worker paths (`.../wrkr/...`) are "
            "not emulated: 404",
        )
    ]
    if not version:
        parameters = [
            path_param("cloud_name", "The org's cloud name"),
            path_param("cdn_path", "`[{zone}/]{pattern}/{fileId}`"),
        ]
    return operation(
        operation_id,
        f"The CDN: `{prefix}/{{cloudName}}[/{{zone}}]/{{pattern}}/{{fileId}}`; signed URLs add "
        "`pbs`, `pbe`, `pbt`. `original` serves the stored bytes; any other pattern is checked "
        "(400 before decoding when invalid) and rendered: `t.*` steps as sharp 0.35 calls, "
        "presets expanded, AI modules as stand-ins (`X-Pixelbin-Emulator-Transformation: "
        "stand-in`); 403 when a module needs credentials the org has not added",
        {
            "200": {
                "description": "The file's bytes, or the rendered variant's",
                "content": {"*/*": {"schema": BINARY}},
            },
            "206": {
                "description": "A range of those bytes",
                "content": {"*/*": {"schema": BINARY}},
            },
            "304": {"description": "Not modified (If-None-Match / If-Modified-Since)"},
            **error_responses(400, 401, 403, 404, 416),
        },
        tag="cdn",
        parameters=[
            *parameters,
            query("pbs", STRING, "Signature of a signed URL"),
            query("pbe", STRING, "Expiry (epoch seconds) of a signed URL"),
            query("pbt", STRING, "Access key of a signed URL"),
            query("dpr", STRING, "Device pixel ratio, 0.1 to 5.0 or `auto`"),
            query("f_auto", STRING, "`true`: AVIF or WebP as the Accept header allows"),
        ],
        security=PUBLIC_ACCESS,
    )


def _cdn() -> dict[str, dict[str, Schema]]:
    return {
        "/v2/{cdn_path}": {"get": _cdn_get("cdn.serve", "v2")},
        "/v1/{cdn_path}": {"get": _cdn_get("cdn.serve_v1", "v1")},
        "/{cloud_name}/{cdn_path}": {"get": _cdn_get("cdn.serve_versionless", "")},
        "/service/platform/transformation/context": {
            "get": operation(
                "transformation_context.get_context",
                "getTransformationContext: the steps of a CDN URL's transformation with the "
                "image after each, the original's metadata, the request headers and params",
                {
                    "200": json_response("The context", ref("TransformationContext")),
                    **error_responses(400, 401, 403, 404),
                },
                tag="transformation",
                parameters=[query("url", STRING, "A CDN URL or path with a transformation")],
            )
        },
    }


SCHEMAS |= {
    "TransformationStep": obj(
        {
            "name": STRING,
            "operation": STRING,
            "identifier": STRING,
            "data": {"type": "object"},
            "metadata": {"type": ["object", "null"]},
            "format": STRING,
            "size": INTEGER,
            "width": INTEGER,
            "height": INTEGER,
            "space": STRING,
            "channels": INTEGER,
            "depth": STRING,
            "density": INTEGER,
            "chromaSubsampling": STRING,
            "isProgressive": BOOLEAN,
            "resolutionUnit": STRING,
            "hasProfile": BOOLEAN,
            "hasAlpha": BOOLEAN,
            "orientation": INTEGER,
        }
    ),
    "TransformationContext": obj(
        {
            "context": obj(
                {
                    "steps": {"type": "array", "items": ref("TransformationStep")},
                    "metadata": {"type": "object"},
                    "headers": {"type": "object", "additionalProperties": STRING},
                    "params": {"type": "object"},
                }
            )
        }
    ),
}


def _presets() -> dict[str, dict[str, Schema]]:
    preset = {"200": json_response("The preset", ref("Preset"))}
    name = path_param("preset_name", "The preset's name")
    return {
        f"{ASSETS}/presets": {
            "post": operation(
                "presets.add_preset",
                "addPreset",
                {**preset, **error_responses(400, 401, 409, 413)},
                tag="presets",
                body=json_body(ref("PresetCreate")),
            ),
            "get": operation(
                "presets.get_presets",
                "getPresets",
                {
                    "200": json_response("A page of presets", ref("PresetsPage")),
                    **error_responses(400, 401),
                },
                tag="presets",
                parameters=struct_query(
                    wire_presets.PresetsQuery,
                    name="Substring of the name",
                    transformation="Substring of the transformation",
                    sort="Sort keys (presetName, transformation, archived, createdAt, updatedAt);"
                    " `-key` or `key-` descending.",
                    **PAGING,
                ),
            ),
        },
        f"{ASSETS}/presets/{{preset_name}}": {
            "get": operation(
                "presets.get_preset",
                "getPreset",
                {**preset, **error_responses(401, 404)},
                tag="presets",
                parameters=[name],
            ),
            "patch": operation(
                "presets.update_preset",
                "updatePreset (archive / unarchive)",
                {**preset, **error_responses(400, 401, 404, 413)},
                tag="presets",
                parameters=[name],
                body=json_body(ref("PresetUpdate")),
            ),
            "delete": operation(
                "presets.delete_preset",
                "deletePreset",
                {**preset, **error_responses(401, 404)},
                tag="presets",
                parameters=[name],
            ),
        },
    }


def _credentials() -> dict[str, dict[str, Schema]]:
    plugin = path_param("plugin_id", "The transformation module's identifier")
    return {
        f"{ASSETS}/credentials": {
            "post": operation(
                "credentials.add_credentials",
                "addCredentials",
                {
                    "200": json_response(
                        "The credentials (values left out)", ref("CredentialsAdded")
                    ),
                    **error_responses(400, 401, 409, 413),
                },
                tag="credentials",
                body=json_body(ref("CredentialsCreate")),
            )
        },
        f"{ASSETS}/credentials/{{plugin_id}}": {
            "patch": operation(
                "credentials.update_credentials",
                "updateCredentials",
                {
                    "200": json_response("The credentials (values left out)", ref("Credentials")),
                    **error_responses(400, 401, 404, 413),
                },
                tag="credentials",
                parameters=[plugin],
                body=json_body(ref("CredentialsUpdate")),
            ),
            "delete": operation(
                "credentials.delete_credentials",
                "deleteCredentials",
                {
                    "200": json_response(
                        "The removed credentials, values included", ref("CredentialsDeleted")
                    ),
                    **error_responses(400, 401, 404),
                },
                tag="credentials",
                parameters=[plugin],
            ),
        },
    }


def _playground() -> dict[str, dict[str, Schema]]:
    return {
        f"{ASSETS}/playground/plugins": {
            "get": operation(
                "modules.get_modules",
                "getModules: the transformation catalogue and the org's presets",
                {"200": json_response("The catalogue", ref("Modules")), **error_responses(401)},
                tag="playground",
            )
        },
        f"{ASSETS}/playground/plugins/{{identifier}}": {
            "get": operation(
                "modules.get_module",
                "getModule",
                {
                    "200": json_response("The module", ref("Plugin")),
                    **error_responses(401, 404),
                },
                tag="playground",
                parameters=[path_param("identifier", "The module's identifier")],
            )
        },
        f"{ASSETS}/playground/default": {
            "get": operation(
                "modules.get_default_asset",
                "getDefaultAssetForPlayground",
                {
                    "200": json_response("The playground asset", ref("PlaygroundAsset")),
                    **error_responses(401),
                },
                tag="playground",
            )
        },
        f"{ORGANIZATION}/apps/info": {
            "get": operation(
                "organization.get_app_org_details",
                "getAppOrgDetails",
                {
                    "200": json_response("The token and its org", ref("AppOrgDetails")),
                    **error_responses(401),
                },
                tag="organization",
            )
        },
    }


def _meta() -> dict[str, dict[str, Schema]]:
    return {
        "/openapi.json": {
            "get": operation(
                "openapi",
                "This description",
                {
                    "200": json_response(
                        "OpenAPI 3.1", {"type": "object", "required": ["openapi", "paths"]}
                    )
                },
                tag="meta",
                security=PUBLIC_ACCESS,
            )
        }
    }


# -- the control plane (/_emulator/, docs/control-plane.md) ------------------------------------

CONTROL = "/_emulator"

# The control plane's bodies and answers, and the state document (a snapshot): generated from
# their structs.
SCHEMAS |= wire.schemas(*wire_control.REQUESTS, *wire_control.RESPONSES)
# The presets and credentials APIs' bodies and answers.
SCHEMAS |= wire.schemas(*wire_presets.REQUESTS, *wire_presets.RESPONSES)
SCHEMAS |= wire.schemas(*wire_credentials.REQUESTS, *wire_credentials.RESPONSES)
SCHEMAS |= wire.schemas(*wire_uploads.REQUESTS, *wire_uploads.FORMS, *wire_uploads.RESPONSES)
# getModules, getModule (the catalogue's plugins with the org's credential state) and the
# playground's default asset.
SCHEMAS |= wire.schemas(*wire_modules.RESPONSES)

ADMIN: Security = [{}, {"adminToken": []}]  # optional: only with --admin-token


def items_of(name: str) -> Schema:
    return obj({"items": {"type": "array", "items": ref(name)}})


def _control_op(
    endpoint: str,
    summary: str,
    status: int,
    schema: Schema | None,
    errors: tuple[int, ...],
    **kwargs: Any,
) -> Schema:
    ok = json_response(summary, schema) if schema else {"description": summary}
    return operation(
        f"control.{endpoint}",
        summary,
        {str(status): ok, **error_responses(*errors)},
        tag="control",
        security=kwargs.pop("security", ADMIN),
        **kwargs,
    )


ORG_FILTER = "Only this org's (404 for an unknown org)"


def _control() -> dict[str, dict[str, Schema]]:
    (org_filter,) = struct_query(wire_control.OrgFilter, orgId=ORG_FILTER)
    org_id = {**path_param("org_id", "The org's id"), "schema": INTEGER}
    rule_id = {**path_param("rule_id", "The fault rule's id"), "schema": INTEGER}
    clock = ref("ClockState")
    return {
        f"{CONTROL}/health": {
            "get": _control_op(
                "health", "Alive", 200, obj({"status": {"const": "ok"}}), (), security=[]
            )
        },
        f"{CONTROL}/ready": {
            "get": operation(
                "control.ready",
                "Ready to serve (503 while loading)",
                {
                    "200": json_response("Ready", obj({"ready": {"const": True}})),
                    "503": json_response("Not ready yet", obj({"ready": {"const": False}})),
                },
                tag="control",
                security=[],
            )
        },
        f"{CONTROL}/orgs": {
            "get": _control_op("list_orgs", "Every org", 200, ref("ControlOrgs"), (401,)),
            "post": _control_op(
                "create_org",
                "Create an org (every field optional)",
                201,
                ref("OrgHead"),
                (400, 401, 409, 413),
                body=json_body(ref("OrgCreate"), required=False),
            ),
        },
        f"{CONTROL}/orgs/{{org_id}}": {
            "get": _control_op(
                "get_org", "One org", 200, ref("OrgHead"), (401, 404), parameters=[org_id]
            ),
            "delete": _control_op(
                "drop_org", "Drop an org", 200, ref("OrgHead"), (401, 404), parameters=[org_id]
            ),
        },
        f"{CONTROL}/domains": {
            "get": _control_op(
                "list_domains",
                "Custom domains (of one org with orgId)",
                200,
                items_of("ControlDomain"),
                (400, 401, 404),
                parameters=[org_filter],
            ),
            "post": _control_op(
                "map_domain",
                "Serve an org's CDN URLs on a host without the cloud name",
                201,
                ref("ControlDomain"),
                (400, 401, 404, 409, 413),
                body=json_body(ref("DomainMapping")),
            ),
        },
        f"{CONTROL}/domains/{{host}}": {
            "delete": _control_op(
                "unmap_domain",
                "Forget a custom domain",
                200,
                ref("ControlDomain"),
                (401, 404),
                parameters=[path_param("host", "The custom domain")],
            )
        },
        f"{CONTROL}/reset": {
            "post": _control_op(
                "reset",
                "Back to the seed",
                200,
                ref("OrgsReset"),
                (401,),
            )
        },
        f"{CONTROL}/snapshot": {
            "get": operation(
                "control.export_snapshot",
                "Export the state (JSON, or a tar.gz with the files' bytes)",
                {
                    "200": {
                        "description": "The snapshot",
                        "content": {
                            JSON: {"schema": ref("StateDocument")},
                            "application/gzip": {"schema": BINARY},
                        },
                    },
                    **error_responses(400, 401, 404),
                },
                tag="control",
                parameters=struct_query(wire_control.SnapshotExport, orgId=ORG_FILTER),
                security=ADMIN,
            ),
            "put": operation(
                "control.import_snapshot",
                "Import a snapshot (replace everything, or merge)",
                {
                    "200": json_response("The orgs imported", ref("SnapshotImported")),
                    **error_responses(400, 401, 409, 413),
                },
                tag="control",
                parameters=struct_query(wire_control.SnapshotImport),
                body={
                    "required": True,
                    "content": {
                        JSON: {"schema": ref("StateDocument")},
                        "application/gzip": {"schema": BINARY},
                        "application/x-tar": {"schema": BINARY},
                    },
                },
                security=ADMIN,
            ),
        },
        f"{CONTROL}/requests": {
            "get": _control_op(
                "list_requests",
                "The request journal",
                200,
                items_of("JournalEntry"),
                (400, 401, 404),
                parameters=struct_query(
                    wire_control.RequestsFilter,
                    orgId=ORG_FILTER,
                    path="A glob (`*`)",
                    operation="An SDK method name, e.g. getFileById",
                    since="Entries after this seq",
                    limit="The newest this many",
                ),
            ),
            "delete": _control_op(
                "clear_requests",
                "Clear the journal",
                200,
                ref("Removed"),
                (400, 401, 404),
                parameters=[org_filter],
            ),
        },
        f"{CONTROL}/faults": {
            "get": _control_op(
                "list_faults",
                "Fault rules",
                200,
                items_of("FaultRuleState"),
                (400, 401, 404),
                parameters=[org_filter],
            ),
            "post": _control_op(
                "add_fault",
                "Add a fault rule",
                201,
                ref("FaultRuleState"),
                (400, 401, 404, 413),
                body=json_body(ref("FaultRuleSpec")),
            ),
            "delete": _control_op(
                "clear_faults",
                "Remove fault rules",
                200,
                ref("Removed"),
                (400, 401, 404),
                parameters=[org_filter],
            ),
        },
        f"{CONTROL}/faults/{{rule_id}}": {
            "get": _control_op(
                "get_fault",
                "One rule",
                200,
                ref("FaultRuleState"),
                (401, 404),
                parameters=[rule_id],
            ),
            "delete": _control_op(
                "delete_fault",
                "Remove one rule",
                200,
                ref("FaultRuleState"),
                (401, 404),
                parameters=[rule_id],
            ),
        },
        f"{CONTROL}/clock": {
            "get": _control_op("get_clock", "The emulator's clock", 200, clock, (401,))
        },
        f"{CONTROL}/clock/freeze": {
            "post": _control_op(
                "freeze_clock",
                "Freeze the clock (now, or at a given instant)",
                200,
                clock,
                (400, 401, 413),
                body=json_body(ref("ClockFreeze"), required=False),
            )
        },
        f"{CONTROL}/clock/advance": {
            "post": _control_op(
                "advance_clock",
                "Move the clock on",
                200,
                clock,
                (400, 401, 413),
                body=json_body(ref("ClockAdvance")),
            )
        },
        f"{CONTROL}/clock/unfreeze": {
            "post": _control_op("unfreeze_clock", "Let the clock run", 200, clock, (401,))
        },
        f"{CONTROL}/clock/reset": {
            "post": _control_op("reset_clock", "Back to real time", 200, clock, (401,))
        },
        f"{CONTROL}/url-stubs": {
            "get": _control_op(
                "list_url_stubs",
                "URL stubs",
                200,
                items_of("UrlStub"),
                (400, 401, 404),
                parameters=[org_filter],
            ),
            "post": _control_op(
                "add_url_stub",
                "Stub a URL for urlUpload",
                201,
                ref("UrlStub"),
                (400, 401, 404, 413),
                body=json_body(ref("UrlStubCreate")),
            ),
            "delete": _control_op(
                "remove_url_stubs",
                "Remove one stub (url=) or all",
                200,
                ref("Removed"),
                (400, 401, 404),
                parameters=struct_query(
                    wire_control.UrlStubsRemoval, orgId=ORG_FILTER, url="One stub's URL"
                ),
            ),
        },
    }


# -- the dashboard (/_emulator/ui/, docs/dashboard.md) and GET / ------------------------------

UI = f"{CONTROL}/ui"
HTML = "text/html"
FORM = "application/x-www-form-urlencoded"
# The dashboard's own token, or the cookie its login form sets (optional without --admin-token).
UI_ACCESS: Security = [*ADMIN, {"adminCookie": []}]
_UI_ERRORS = {
    400: "Bad input (the page says why)",
    401: "No admin token (posts; pages redirect to the login form)",
    403: "A post from another origin",
    404: "Unknown org, file, folder or rule",
    409: "A clash with what exists",
    413: "Request body larger than the server accepts",
}


def _html(description: str) -> Schema:
    return {"description": description, "content": {HTML: {"schema": STRING}}}


_NOTICE = query("notice", STRING, "A line the page's header shows (what a form just did)")


def _ui_op(
    endpoint: str,
    summary: str,
    ok: dict[str, Schema],
    errors: tuple[int, ...],
    *,
    parameters: list[Schema] | None = None,
    body: Schema | None = None,
    security: Security | None = None,
) -> Schema:
    """A dashboard route: its answers, a redirect (to a page or the login form) and the errors,
    shown as a page (or the API's error format, for werkzeug's own 405/413). A page takes the
    ``notice`` its header shows (a redirect after a form sets it)."""
    responses: dict[str, Schema] = {"303": {"description": "See another page"}, **ok}
    if HTML in ok.get("200", {}).get("content", {}):
        parameters = [*(parameters or ()), _NOTICE]
    for status in sorted({401, 403, *errors}):
        responses[str(status)] = {
            "description": _UI_ERRORS[status],
            # JSON first: schemathesis 3 checks a JSON answer against the first schema.
            "content": {JSON: {"schema": ref("Error")}, HTML: {"schema": STRING}},
        }
    return operation(
        f"dashboard.{endpoint}",
        summary,
        responses,
        tag="dashboard",
        parameters=parameters,
        body=body,
        security=UI_ACCESS if security is None else security,
    )


def _form(properties: dict[str, Schema], required: tuple[str, ...] = ()) -> Schema:
    schema = {"type": "object", "properties": properties, "required": list(required)}
    return {"required": bool(required), "content": {FORM: {"schema": schema}}}


def _ui_multipart(properties: dict[str, Schema], required: tuple[str, ...]) -> Schema:
    schema = {"type": "object", "properties": properties, "required": list(required)}
    return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}


def _dashboard() -> dict[str, dict[str, Schema]]:
    org_id = {**path_param("org_id", "The org's id"), "schema": INTEGER}
    rule_id = {**path_param("rule_id", "The fault rule's id"), "schema": INTEGER}
    page = _html("The page")
    org_arg = query("org", INTEGER, "Only this org (404 for an unknown org)")
    return {
        "/": {
            "get": operation(
                "root",
                "Browsers (Accept: text/html) go to the dashboard; others get a map of the server",
                {
                    "200": json_response(
                        "Where things are",
                        obj(
                            {
                                "name": STRING,
                                "dashboard": STRING,
                                "openapi": STRING,
                                "api": STRING,
                                "control": STRING,
                            }
                        ),
                    ),
                    "302": {"description": "To the dashboard"},
                },
                tag="meta",
                security=PUBLIC_ACCESS,
            )
        },
        f"{UI}/login": {
            "get": _ui_op("login", "The login form", {"200": page}, (), security=[]),
            "post": _ui_op(
                "do_login",
                "Log in with the admin token: sets the dashboard's cookie",
                {},
                (401,),
                body=_form({"token": STRING, "next": STRING}),
                security=[],
            ),
        },
        f"{UI}/logout": {"post": _ui_op("logout", "Forget the cookie", {}, ())},
        f"{UI}/": {
            "get": _ui_op(
                "index",
                "The orgs; ?org=N opens that org's files",
                {"200": page},
                (400, 404),
                parameters=[query("org", STRING, "An org id to open")],
            )
        },
        f"{UI}/orgs": {
            "post": _ui_op(
                "create_org", "Create an org", {}, (400, 409, 413), body=_form({"name": STRING})
            )
        },
        f"{UI}/orgs/{{org_id}}/files": {
            "get": _ui_op(
                "files",
                "A folder of the org: breadcrumbs, folders, files with thumbnails",
                {"200": page},
                (400, 404),
                parameters=[
                    org_id,
                    query("path", STRING, "The folder (default: the root)"),
                    query("page", STRING, "Page number, from 1"),
                ],
            ),
            "post": _ui_op(
                "upload",
                "Upload files into a folder",
                {},
                (400, 404, 413),
                parameters=[org_id],
                body=_ui_multipart(
                    {"file": BINARY, "path": STRING, "access": ACCESS, "tags": STRING}, ("file",)
                ),
            ),
        },
        f"{UI}/orgs/{{org_id}}/folders": {
            "post": _ui_op(
                "create_folder",
                "Create a folder",
                {},
                (400, 404, 409, 413),
                parameters=[org_id],
                body=_form({"name": STRING, "path": STRING}, ("name",)),
            )
        },
        f"{UI}/orgs/{{org_id}}/file/{{file_id}}": {
            "get": _ui_op(
                "file_details",
                "A file: metadata, tags, size, dimensions, public and signed URLs",
                {"200": page},
                (400, 404),
                parameters=[org_id, path_param("file_id", "The file's `fileId`")],
            )
        },
        f"{UI}/orgs/{{org_id}}/delete": {
            "post": _ui_op(
                "delete_file",
                "Delete a file",
                {},
                (400, 404, 413),
                parameters=[org_id],
                body=_form({"fileId": STRING}, ("fileId",)),
            )
        },
        f"{UI}/orgs/{{org_id}}/presets": {
            "get": _ui_op(
                "presets",
                "The org's presets, previewed on a chosen image",
                {"200": page},
                (400, 404),
                parameters=[org_id, query("image", STRING, "The `fileId` of the image")],
            )
        },
        f"{UI}/orgs/{{org_id}}/journal": {
            "get": _ui_op(
                "journal",
                "The org's request journal, live",
                {"200": page},
                (400, 404),
                parameters=[
                    org_id,
                    query("operation", STRING, "Only this operation"),
                    query("status", STRING, "A status (`503`) or a class (`5xx`)"),
                ],
            )
        },
        f"{UI}/orgs/{{org_id}}/journal.json": {
            "get": _ui_op(
                "journal_entries",
                "What the live journal polls: entries after `since`",
                {"200": json_response("Newest entries", items_of("JournalEntry"))},
                (400, 404),
                parameters=[
                    org_id,
                    query("since", STRING, "Entries with a greater `seq`"),
                    query("operation", STRING, "Only this operation"),
                    query("status", STRING, "A status (`503`) or a class (`5xx`)"),
                ],
            )
        },
        f"{UI}/orgs/{{org_id}}/faults": {
            "get": _ui_op(
                "faults",
                "The org's fault rules and the clock",
                {"200": page},
                (400, 404),
                parameters=[org_id],
            ),
            "post": _ui_op(
                "add_fault",
                "Add a fault rule for the org",
                {},
                (400, 404, 413),
                parameters=[org_id],
                body=_form(
                    {
                        "operation": STRING,
                        "method": STRING,
                        "path": STRING,
                        "status": STRING,
                        "latency": STRING,
                        "drop": STRING,
                        "after": STRING,
                        "times": STRING,
                    }
                ),
            ),
        },
        f"{UI}/orgs/{{org_id}}/faults/{{rule_id}}/delete": {
            "post": _ui_op(
                "delete_fault", "Remove a fault rule", {}, (400, 404), parameters=[org_id, rule_id]
            )
        },
        f"{UI}/clock": {
            "post": _ui_op(
                "clock",
                "Freeze, advance, unfreeze or reset the clock",
                {},
                (400, 413),
                body=_form(
                    {
                        "action": {"enum": ["freeze", "advance", "unfreeze", "reset"]},
                        "at": STRING,
                        "seconds": STRING,
                        "next": STRING,
                    },
                    ("action",),
                ),
            )
        },
        f"{UI}/snapshot": {
            "get": _ui_op(
                "snapshot",
                "Export and import snapshots",
                {"200": page},
                (400,),
                parameters=[org_arg],
            )
        },
        f"{UI}/snapshot/export": {
            "get": _ui_op(
                "export_snapshot",
                "A snapshot as a download: JSON or `.tar.gz`",
                {
                    "200": {
                        "description": "The state document, or its archive",
                        "content": {
                            JSON: {"schema": ref("StateDocument")},
                            "application/gzip": {"schema": BINARY},
                        },
                    }
                },
                (400, 404),
                parameters=[org_arg, query("form", {"enum": ["json", "archive"]})],
            )
        },
        f"{UI}/snapshot/import": {
            "post": _ui_op(
                "import_snapshot",
                "Import a snapshot file (JSON or `.tar.gz`), merging or replacing",
                {},
                (400, 409, 413),
                body=_ui_multipart(
                    {"file": BINARY, "mode": {"enum": ["merge", "replace"]}}, ("file",)
                ),
            )
        },
        f"{UI}/static/{{filename}}": {
            "get": operation(
                "dashboard.static",
                "The dashboard's stylesheet and script",
                {
                    "200": {"description": "The file", "content": {"*/*": {"schema": BINARY}}},
                    "304": {"description": "Not modified"},
                    **error_responses(404),
                },
                tag="dashboard",
                parameters=[path_param("filename", "The file's name")],
                security=PUBLIC_ACCESS,
            )
        },
    }


# -- predictions (docs/predictions.md) ----------------------------------------------------------

TRANSFORMATION = "/service/platform/transformation/v1.0"
PUBLIC_TRANSFORMATION = "/service/public/transformation/v1.0"
# The jobs, models, settings and webhook deliveries: generated from their wire structs.
SCHEMAS |= wire.schemas(*wire_predictions.REQUESTS, *wire_predictions.RESPONSES)


def _control_predictions_op(endpoint: str, *args: Any, **kwargs: Any) -> Schema:
    """A control-plane operation served by the ``control_predictions`` blueprint."""
    op = _control_op(endpoint, *args, **kwargs)
    op["operationId"] = f"control_predictions.{endpoint}"
    return op


def _predictions() -> dict[str, dict[str, Schema]]:
    job = {"200": json_response("The prediction job", ref("PredictionJob"))}
    create_body = {
        "required": False,
        "content": {
            media: {"schema": ref("PredictionCreate")} for media in (JSON, "multipart/form-data")
        },
    }
    org_only = "Only this org's (404 for an unknown org)"
    return {
        f"{TRANSFORMATION}/predictions/{{plugin}}/{{operation}}": {
            "post": operation(
                "predictions.create_prediction",
                "Create a prediction job for the model `{plugin}_{operation}` (e.g. erase_bg)",
                {
                    **job,
                    **error_responses(400, 401, 404, 413),
                    "403": json_response("Credit limit reached", ref("UsageBlockedError")),
                },
                tag="predictions",
                parameters=[
                    path_param("plugin", "The model's plugin, e.g. `erase`"),
                    path_param("operation", "The model's operation, e.g. `bg`"),
                ],
                body=create_body,
            )
        },
        f"{TRANSFORMATION}/predictions/{{request_id}}": {
            "get": operation(
                "predictions.get_prediction",
                "A prediction job (ACCEPTED until its latency has passed on the emulator clock)",
                {**job, **error_responses(401, 404)},
                tag="predictions",
                parameters=[path_param("request_id", "The job's `_id`")],
            )
        },
        f"{PUBLIC_TRANSFORMATION}/predictions": {
            "get": operation(
                "predictions_public.list_predictions",
                "The prediction models",
                {
                    "200": json_response(
                        "Models", {"type": "array", "items": ref("PredictionModel")}
                    )
                },
                tag="predictions",
                security=PUBLIC_ACCESS,
            )
        },
        f"{PUBLIC_TRANSFORMATION}/predictions/schema/{{name}}": {
            "get": operation(
                "predictions_public.get_prediction_schema",
                "A model's input schema (JSON Schema)",
                {
                    "200": json_response("The schema", ref("PredictionSchema")),
                    **error_responses(404),
                },
                tag="predictions",
                parameters=[path_param("name", "The model's name, e.g. `erase_bg`")],
                security=PUBLIC_ACCESS,
            )
        },
        "/predictions/{file_path}": {
            "get": operation(
                "predictions_public.prediction_file",
                "A job's uploaded input (`inputs/...`) or result (`outputs/30d/...`), for the "
                "retention period",
                {
                    "200": {
                        "description": "The file (an image, or a detector's JSON document)",
                        "content": {
                            **{
                                f"image/{kind}": {"schema": BINARY}
                                for kind in ("jpeg", "png", "webp", "avif", "tiff")
                            },
                            JSON: {"schema": ANY_OBJECT},
                        },
                    },
                    "304": {"description": "Not modified (If-None-Match)"},
                    **error_responses(404),
                },
                tag="predictions",
                parameters=[path_param("file_path", "`inputs/...` or `outputs/30d/...`")],
                security=PUBLIC_ACCESS,
            )
        },
        f"{CONTROL}/predictions": {
            "get": _control_predictions_op(
                "list_prediction_jobs",
                "Prediction jobs, with when they are due",
                200,
                items_of("ControlPredictionJob"),
                (400, 401, 404),
                parameters=struct_query(wire_predictions.PredictionJobsQuery, orgId=org_only),
            )
        },
        f"{CONTROL}/predictions/complete": {
            "post": _control_predictions_op(
                "complete_prediction_jobs",
                "Complete pending jobs now (all, an org's, or one)",
                200,
                items_of("ControlPredictionJob"),
                (400, 401, 404, 413),
                body=json_body(ref("PredictionsComplete"), required=False),
            )
        },
        f"{CONTROL}/predictions/settings": {
            "get": _control_predictions_op(
                "get_prediction_settings",
                "An org's prediction settings and credits used",
                200,
                ref("PredictionSettings"),
                (400, 401, 404),
                parameters=struct_query(wire_predictions.PredictionSettingsQuery, orgId="The org"),
            ),
            "put": _control_predictions_op(
                "set_prediction_settings",
                "Change an org's prediction settings",
                200,
                ref("PredictionSettings"),
                (400, 401, 404, 413),
                body=json_body(ref("PredictionSettingsUpdate")),
            ),
        },
        f"{CONTROL}/webhooks": {
            "get": _control_predictions_op(
                "list_webhook_deliveries",
                "Webhook delivery attempts",
                200,
                items_of("WebhookDelivery"),
                (400, 401, 404),
                parameters=struct_query(
                    wire_predictions.WebhookDeliveriesQuery, orgId=org_only, jobId="The job"
                ),
            )
        },
    }


@functools.cache
def _document() -> Schema:
    paths: dict[str, dict[str, Schema]] = {}
    parts = (
        _files,
        _folders,
        _uploads,
        _cdn,
        _presets,
        _credentials,
        _playground,
        _control,
        _dashboard,
        _predictions,
        _control,
        _meta,
    )
    for part in parts:
        for path, operations in part().items():
            paths.setdefault(path, {}).update(operations)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Pixelbin emulator",
            "version": "1.0",
            "description": "The Pixelbin asset API as this emulator serves it. Errors are "
            "`{message, status, code: 'CG-0<status>', exception}`. CORS: the public upload "
            "routes and the CDN (and the platform API with `--cors-platform`) answer a "
            "preflight `OPTIONS` with 204, or 403 in the error format for an origin or route "
            "browsers may not use; a CDN path on a custom domain has no cloud name.",
        },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "security": [{"apiSecret": []}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "apiSecret": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "`Authorization: Bearer base64(apiSecret)`",
                },
                "adminToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The control plane's token, when one is configured",
                },
                "adminCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "pixelbin_emulator_admin",
                    "description": "The admin token, as the dashboard's login form sets it",
                },
            },
        },
    }


def openapi_document(server_url: str | None = None) -> Schema:
    """The description (a fresh copy), with ``servers`` pointing at ``server_url`` if given."""
    document = copy.deepcopy(_document())
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document
