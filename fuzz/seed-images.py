"""Writes two image archives of one layer, as seeds of the image_archive
fuzz target: an OCI archive (a tar of an OCI image layout) and a `docker
save` archive.

    python seed-images.py LAYER.tar OUT_FOLDER
"""

import gzip
import hashlib
import io
import json
import sys
import tarfile

layer_path, out = sys.argv[1:3]
layer = gzip.compress(open(layer_path, "rb").read(), mtime=0)
config = json.dumps({"architecture": "amd64", "os": "linux",
                     "rootfs": {"type": "layers", "diff_ids": []}}).encode()


def digest(data):
    return hashlib.sha256(data).hexdigest()


def archive(path, files):
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


manifest = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
               "digest": "sha256:" + digest(config), "size": len(config)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": "sha256:" + digest(layer), "size": len(layer)}],
}).encode()
index = json.dumps({"schemaVersion": 2, "manifests": [{
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": "sha256:" + digest(manifest), "size": len(manifest),
    "annotations": {"org.opencontainers.image.ref.name": "seed"}}]}).encode()
archive(f"{out}/oci.tar", [
    ("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'),
    ("index.json", index),
    ("blobs/sha256/" + digest(manifest), manifest),
    ("blobs/sha256/" + digest(config), config),
    ("blobs/sha256/" + digest(layer), layer),
])
docker_manifest = json.dumps([{
    "Config": "blobs/sha256/" + digest(config),
    "RepoTags": ["seed:latest"],
    "Layers": ["blobs/sha256/" + digest(layer)],
}]).encode()
archive(f"{out}/docker-save.tar", [
    ("manifest.json", docker_manifest),
    ("blobs/sha256/" + digest(config), config),
    ("blobs/sha256/" + digest(layer), layer),
])
