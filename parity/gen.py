"""Seeded generator of nova_meta requests for the parity suite.

Every request is built so that the interesting corners of Nova's behaviour
come up often: multi-byte UTF-8 across the 255-byte cut, every JSON type,
skip keys, keys named like inheritable attributes, snapshots used as boot
images, vhd flavors, cross-project snapshots, configured and built-in
non-inheritable properties, os_glance* keys, unprefixed system metadata;
numbers at and past every limit (integers of hundreds and 4,300 digits,
1E400, -0), JSON of every type in attributes no flow reads, Unicode of
every kind.

Numbers that Python's json.dumps cannot write as Python reads them (1E400
would come out as Infinity, which JSON readers refuse) are `Raw` text: the
request line holds the text, and the oracle reads the line back with
json.loads, so it sees exactly what Nova would.
"""
import json
import random
import uuid


class Raw:
    """JSON text written into the request line as it is."""

    def __init__(self, text):
        self.text = text


_TOKEN = "\u0000raw%d\u0000"


def dumps(value, ensure_ascii=True):
    """json.dumps of a generated request, with every Raw written as its text."""
    raws = []

    def walk(v):
        if isinstance(v, Raw):
            raws.append(v.text)
            return _TOKEN % (len(raws) - 1)
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    text = json.dumps(walk(value), ensure_ascii=ensure_ascii)
    for i, raw in enumerate(raws):
        text = text.replace(json.dumps(_TOKEN % i), raw, 1)
    return text


# Numbers at and past the limits Python's json and the double range set.
RAW_NUMBERS = ["1E400", "-1e400", "1.7976931348623159e308", "1.7976931348623157e308", "-0", "-0.0",
               "1E+2", "0e0", "4.9e-324", "2.4e-324", "1e-400", "123456789012345678901234567890.5e-10"]

SKIP_KEYS = ["mappings", "block_device_mapping", "img_mappings", "img_block_device_mapping"]
INHERITABLE = ["min_ram", "min_disk", "disk_format", "container_format"]
BUILTIN_NON_INHERITABLE = [
    "cinder_encryption_key_id", "cinder_encryption_key_deletion_policy", "img_signature",
    "img_signature_hash_method", "img_signature_key_type", "img_signature_certificate_uuid",
]
CONFIG_NON_INHERITABLE = ["cache_in_nova", "bittorrent"]
PLAIN_KEYS = [
    "os_type", "os_distro", "os_version", "hw_disk_bus", "hw_vif_model", "hw_firmware_type",
    "hw_machine_type", "architecture", "hypervisor_type", "vm_mode", "os_require_quiesce",
    "hw_qemu_guest_agent", "description", "owner_specified.openstack.md5", "trait:CUSTOM_X",
]
SNAPSHOT_KEYS = ["base_image_ref", "instance_uuid", "user_id", "image_type", "image_location",
                 "instance_owner", "owner_user_name", "owner_project_name", "backup_type"]
UNPREFIXED_SM = ["owner_user_name", "owner_project_name", "password_0", "password_1", "password_2",
                 "password_3", "clean_attempts", "boot_roles", "shelved_at", "shelved_image_id",
                 "shelved_host", "instance_owner", "image", "min_ram", "disk_format", "os_glance_x"]
CHARS = {1: "a~'\"\\", 2: "éß\u00a0\u00ad\u0378", 3: "€中\u2028\u200b\ue000\ufffd", 4: "😀𝄞\U000e0001\U0010fffd"}
ODD = "\n\t\r\x00\x07\x7f'\"\\ "
UNREAD_ATTRIBUTES = ["id", "name", "visibility", "status", "size", "owner", "checksum", "protected",
                     "os_hidden", "tags", "virtual_size", "created_at", "os_hash_value", "stores", "locations",
                     "direct_url", "x_custom"]
DISK_FORMATS = ["qcow2", "raw", "vhd", "vhdx", "vmdk", "iso", "ami", "ploop"]
CONTAINER_FORMATS = ["bare", "ovf", "ova", "ami", "docker", "compressed"]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def chance(self, p):
        return self.r.random() < p

    def uuid(self):
        return str(uuid.UUID(int=self.r.getrandbits(128), version=4))

    # -- strings -------------------------------------------------------
    def crossing_string(self):
        """A string whose multi-byte character straddles byte 255 at a
        chosen offset (2-, 3- and 4-byte characters, every offset)."""
        width = self.r.choice([2, 3, 4])
        ch = self.r.choice(CHARS[width])
        start = 255 - self.r.randrange(width)  # the char starts at or just before 255
        start -= self.r.randrange(0, 3) * width  # sometimes a few chars earlier
        tail = ch * self.r.randint(1, 4)
        return "a" * start + tail + self.r.choice(["", "z", ch * 3])

    def text(self, max_len=40):
        kind = self.r.random()
        if kind < 0.12:
            return self.crossing_string()
        if kind < 0.2:
            return ""
        pool = "abcxyz019-_." + "".join(CHARS[w] for w in CHARS) + ODD
        return "".join(self.r.choice(pool) for _ in range(self.r.randint(1, max_len)))

    def short_text(self):
        """Fits the 255-character column whatever it holds."""
        s = self.text(30)
        return s[:255]

    # -- JSON values ---------------------------------------------------
    def number(self):
        choice = self.r.randrange(11)
        if choice == 9:
            return Raw(self.r.choice(RAW_NUMBERS))
        if choice == 10:
            # Integers of many digits, up to CPython's 4,300 for json.loads.
            digits = self.r.choice([19, 20, 39, 40, 100, 300, 4300])
            text = str(self.r.randint(1, 9)) + "".join(str(self.r.randrange(10)) for _ in range(digits - 1))
            return int(("-" if self.chance(0.3) else "") + text)
        if choice == 0:
            return self.r.randint(-1000, 1000)
        if choice == 1:
            return self.r.choice([2 ** 63, -(2 ** 63) - 1, 2 ** 64, 10 ** 30, -(10 ** 25), 2 ** 63 - 1])
        if choice == 2:
            return self.r.choice([0.0, -0.0, 1.0, 0.1, 1e16, 1e15, 1e-5, 1e-4, 1.5e300, 5e-324, 1e22,
                                  123456789.125, 9999999999999998.0, 2.5, -1e-7])
        if choice == 3:
            return self.r.random() * 10 ** self.r.randint(-12, 24)
        if choice == 4:
            return -self.r.random() * 10 ** self.r.randint(-8, 18)
        if choice == 5:
            return float(self.r.randint(-10 ** 6, 10 ** 6))
        if choice == 6:
            return self.r.getrandbits(self.r.randint(1, 120))
        return self.r.randint(0, 100)

    def value(self, depth=0):
        choice = self.r.randrange(10 if depth < 3 else 7)
        if choice <= 2:
            return self.text()
        if choice == 3:
            return self.number()
        if choice == 4:
            return self.r.choice([True, False])
        if choice == 5:
            return None
        if choice == 6:
            return self.number() if self.chance(0.5) else self.text(8)
        if choice in (7, 8):
            return [self.value(depth + 1) for _ in range(self.r.randint(0, 4))]
        return {self.key(): self.value(depth + 1) for _ in range(self.r.randint(0, 4))}

    # -- keys ----------------------------------------------------------
    def key(self):
        choice = self.r.randrange(14)
        if choice <= 3:
            return self.r.choice(PLAIN_KEYS)
        if choice == 4:
            return self.r.choice(SKIP_KEYS)
        if choice == 5:
            return "image_" + self.r.choice(SKIP_KEYS + PLAIN_KEYS)
        if choice == 6:
            return self.r.choice(INHERITABLE)
        if choice == 7:
            return self.r.choice(BUILTIN_NON_INHERITABLE + CONFIG_NON_INHERITABLE)
        if choice == 8:
            return "os_glance" + self.r.choice(["", "_import_method", "_stores", "x"])
        if choice == 9:
            return self.r.choice(SNAPSHOT_KEYS)
        if choice == 10:
            # Up to the longest property name whose image_ key still fits.
            return "k" * self.r.choice([1, 100, 248, 249])
        if choice == 11:
            return "".join(self.r.choice("é€😀ab") for _ in range(self.r.randint(1, 6)))
        return "p_%d" % self.r.randrange(40)

    def properties(self, n=None):
        n = self.r.randint(0, 12) if n is None else n
        return {self.key(): self.value() for _ in range(n)}

    # -- domain objects ------------------------------------------------
    def image(self):
        img = {}
        if self.chance(0.8):
            img["id"] = self.uuid()
        if self.chance(0.5):
            img["name"] = self.short_text()
        for key, gen in (("min_ram", self.minimum), ("min_disk", self.minimum),
                         ("disk_format", lambda: self.r.choice(DISK_FORMATS)),
                         ("container_format", lambda: self.r.choice(CONTAINER_FORMATS))):
            c = self.r.random()
            if c < 0.6:
                img[key] = gen()
            elif c < 0.7:
                img[key] = None
        if self.chance(0.3):
            img["status"] = "active"
            img["size"] = self.r.randint(0, 10 ** 10)
        # Attributes no flow reads hold any JSON at all.
        for key in self.r.sample(UNREAD_ATTRIBUTES, self.r.randint(0, 4)):
            img[key] = self.value()
        if self.chance(0.9):
            img["properties"] = self.properties()
            if self.chance(0.3):
                img["properties"]["base_image_ref"] = self.uuid()
        return img

    def ref_of(self, image):
        """The image's id when it is a string (the request's image_ref and
        image_id are strings), else a new one."""
        ref = image.get("id")
        return ref if isinstance(ref, str) and ref else self.uuid()

    def minimum(self):
        c = self.r.random()
        if c < 0.7:
            return self.r.choice([0, 1, 5, 10, 20, 40, 80, 512, 2048, self.r.randint(0, 200)])
        if c < 0.85:
            return self.r.choice(["", "10", "512"])  # as system metadata stores them
        if c < 0.9:
            return self.r.choice([2 ** 63 - 1, 2 ** 63, 2 ** 64, -(2 ** 63) - 1, 10 ** 30])
        return self.r.randint(-5, 5)

    def flavor(self):
        if self.chance(0.3):
            return None
        return {"root_gb": self.r.choice([0, 1, 10, 20, 40, 100, self.r.randint(0, 300)]), "name": "m1"}

    def system_metadata(self):
        sm = {}
        for _ in range(self.r.randint(0, 14)):
            c = self.r.random()
            if c < 0.45:
                key = "image_" + self.key()
            elif c < 0.75:
                key = self.r.choice(UNPREFIXED_SM)
            else:
                key = self.key()
            if key and len(key) <= 255:
                c = self.r.random()
                if c < 0.05:
                    sm[key] = None  # a NULL row
                elif c < 0.08:
                    # Read as the field coerces it: its str().
                    sm[key] = self.r.choice([0, 7, -3, 10 ** 20, True, 1.5, Raw("1E400")])
                else:
                    sm[key] = self.short_text()
        if self.chance(0.6):
            sm["image_base_image_ref"] = self.uuid()
        if self.chance(0.05):
            sm["image_long_value"] = "v" * 256  # over the column: a documented departure
        return sm

    def context(self, instance_project):
        same = self.chance(0.6)
        return {
            "user_id": None if self.chance(0.05) else "u-%d" % self.r.randrange(5),
            "project_id": instance_project if same else "p-%d" % self.r.randrange(5),
            # Service and admin contexts may have no names (stored as null).
            "user_name": None if self.chance(0.05) else (self.short_text() or "alice"),
            "project_name": None if self.chance(0.05) else (self.short_text() or "demo"),
        }

    def extra(self):
        if self.chance(0.4):
            return None
        extra = self.properties(self.r.randint(0, 4))
        if self.chance(0.2):
            extra[self.r.choice(SNAPSHOT_KEYS)] = self.value()
        return extra

    # -- requests --------------------------------------------------------
    def request(self, op):
        if op == "system_metadata_from_image":
            return {"op": op, "image": self.image(), "flavor": self.flavor()}
        if op == "image_from_system_metadata":
            return {"op": op, "system_metadata": self.system_metadata()}
        if op == "populate_for_create":
            image = self.image()
            return {"op": op, "image": image, "image_ref": self.ref_of(image),
                    "flavor": self.flavor(), "context": self.context("p-0"),
                    "system_metadata": self.system_metadata() if self.chance(0.3) else None}
        if op == "reset_image_metadata":
            image = self.image()
            image_id = None if self.chance(0.03) else self.ref_of(image)
            # Nova reads the rebuild image by its id, so the two mostly
            # agree; its unit tests also rebuild with image_id None and an
            # image that has an id, and Nova stores what image_id says.
            c = self.r.random()
            if c < 0.85:
                image["id"] = image_id
            elif c < 0.92:
                image["id"] = self.uuid()
            elif c < 0.96:
                image.pop("id", None)
            else:
                image["id"] = None
            req = {"op": op, "system_metadata": self.system_metadata(), "image": image,
                   "image_id": image_id, "flavor": self.flavor()}
            if self.chance(0.2):
                req["base_image_ref_policy"] = "nova"  # the explicit default is Nova
            return req
        project = "p-%d" % self.r.randrange(3)
        req = {"op": op, "system_metadata": self.system_metadata(),
               "instance": {"uuid": self.uuid(), "project_id": project},
               "context": self.context(project), "name": self.short_text(),
               "extra_properties": self.extra()}
        if self.chance(0.3):
            req["non_inheritable_image_properties"] = self.r.sample(
                PLAIN_KEYS + CONFIG_NON_INHERITABLE, self.r.randint(0, 4))
        if op == "create_image":
            req["image_type"] = self.r.choice(["snapshot", "backup"])
        if self.chance(0.2):
            req["profile"] = "nova"  # the explicit default is Nova
        return req


# -- the rest of the lifecycle ------------------------------------------------
BACKUP_TYPES = ["daily", "weekly", "hourly"]
GLANCE_TOP = ["id", "name", "status", "visibility", "protected", "os_hidden", "checksum", "os_hash_algo",
              "os_hash_value", "owner", "size", "virtual_size", "container_format", "disk_format",
              "created_at", "updated_at", "tags", "direct_url", "min_ram", "min_disk", "self", "file",
              "schema", "locations", "stores"]
# What Python's int() reads, and what it refuses, as a min_ram or min_disk
# string: digits of every script, the whitespace int() strips (and the
# separators \x1c-\x1f it does not), underscores, signs, many digits.
INT_TEXTS = ["512", " 7 ", "1_0", "-3", "+4", "abc", "", "\uff15", "\u0661\u0660", "\u30009",
             "\x1c9", "9\x1f", "\x859\xa0", "\u2028 12", "\U0001d7ce\U0001d7cf", "1__0", "_1", "0x10",
             "007", "99999999999999999999999", "-0", "1.5", "\u0966\u0967\u0968", "\t\n\x0b\x0c\r5"]
NON_BASE_KNOWN = ["kernel_id", "ramdisk_id", "os_distro", "os_version", "instance_uuid", "architecture"]


# After Raw is defined: gen_typed imports it from here.
import gen_typed  # noqa: E402


class LifecycleGen(Gen, gen_typed.TypedGen):
    def timestamp(self):
        day = self.r.randint(1, 28)
        hour, minute, sec = self.r.randrange(24), self.r.randrange(60), self.r.randrange(60)
        frac = self.r.choice(["", ".5", ".123456", ".000001"])
        tz = self.r.choice(["Z", "+00:00", "+02:00", "-05:30"])
        return "2026-%02d-%02dT%02d:%02d:%02d%s%s" % (self.r.randint(1, 12), day, hour, minute, sec, frac, tz)

    def instance(self, project, **extra):
        inst = {"uuid": self.uuid(), "project_id": project}
        inst.update(extra)
        return inst

    def snapshot_base(self, op):
        project = "p-%d" % self.r.randrange(3)
        req = {"op": op, "system_metadata": self.system_metadata(),
               "instance": self.instance(project), "context": self.context(project),
               "name": self.short_text(), "extra_properties": self.extra()}
        if self.chance(0.3):
            req["non_inheritable_image_properties"] = self.r.sample(
                PLAIN_KEYS + CONFIG_NON_INHERITABLE, self.r.randint(0, 4))
        return req

    def backup_image(self, uuid):
        props = {}
        if self.chance(0.9):
            props["image_type"] = self.r.choice(["backup", "backup", "snapshot"])
        if self.chance(0.9):
            props["backup_type"] = self.r.choice(BACKUP_TYPES)
        if self.chance(0.9):
            props["instance_uuid"] = uuid if self.chance(0.8) else self.uuid()
        return {"id": self.uuid() if self.chance(0.7) else "img-%d" % self.r.randrange(5),
                "created_at": self.timestamp(), "properties": props}

    def glance_body(self):
        body = {}
        for key in self.r.sample(GLANCE_TOP, self.r.randint(0, 10)):
            if key in ("min_ram", "min_disk", "size", "virtual_size"):
                body[key] = self.r.choice([0, 1, 512, None]) if key in ("size", "virtual_size") else self.r.choice([0, 1, 512])
            elif key in ("protected", "os_hidden"):
                body[key] = self.r.choice([True, False])
            elif key == "visibility":
                body[key] = self.r.choice(["public", "private", "shared", "community"])
            elif key in ("tags", "locations", "stores"):
                body[key] = self.r.choice([[], self.value(), "a,b"])
            else:
                body[key] = self.short_text() if self.chance(0.8) else self.value()
        for _ in range(self.r.randint(0, 6)):
            key = self.r.choice(NON_BASE_KNOWN + PLAIN_KEYS + ["p_%d" % self.r.randrange(9)])
            body[key] = self.short_text()
        if self.chance(0.3):
            body[self.r.choice(["block_device_mapping", "mappings"])] = self.r.choice(
                ['[{"boot_index": 0, "source_type": "snapshot"}]', '[]', '{"a": [1, 2.5, null]}'])
        return body

    def nova_image_for_glance(self):
        img = {}
        if self.chance(0.8):
            img["id"] = self.uuid()
        if self.chance(0.7):
            img["name"] = self.short_text()
        for key in ("min_ram", "min_disk"):
            if self.chance(0.6):
                img[key] = self.r.choice([0, 512, 20, 2 ** 64, self.r.choice(INT_TEXTS)])
        for key, pool in (("disk_format", DISK_FORMATS), ("container_format", CONTAINER_FORMATS)):
            c = self.r.random()
            if c < 0.5:
                img[key] = self.r.choice(pool)
            elif c < 0.6:
                img[key] = None  # an explicit null Nova passes on
        for key in self.r.sample(["status", "created_at", "updated_at", "deleted_at", "size", "deleted",
                                  "is_public", "owner", "checksum"], self.r.randint(0, 5)):
            img[key] = self.r.choice([self.short_text(), True, False, 0, None, self.value()])
        props = self.properties(self.r.randint(0, 6))
        props = {k: v for k, v in props.items() if k not in img and k not in INHERITABLE}
        for key in ("kernel_id", "ramdisk_id"):
            if self.chance(0.3):
                props[key] = self.r.choice(["", "None", " none ", "NONE", "aki-1", None])
        if self.chance(0.3):
            props[self.r.choice(["block_device_mapping", "mappings"])] = self.value()
        img["properties"] = props
        return img

    def request(self, op):
        if op in ("image_meta_props", "image_meta_from_system_metadata"):
            return self.typed_request(op)
        if op in ("backup",):
            req = self.snapshot_base(op)
            req["backup_type"] = self.r.choice(BACKUP_TYPES)
            return req
        if op == "rotate_backups":
            uuid = self.uuid()
            return {"op": op, "instance_uuid": uuid, "backup_type": self.r.choice(BACKUP_TYPES),
                    "rotation": self.r.randint(0, 4),
                    "images": [self.backup_image(uuid) for _ in range(self.r.randint(0, 9))]}
        if op == "shelve":
            project = "p-%d" % self.r.randrange(3)
            inst = self.instance(project, image_ref=self.uuid() if self.chance(0.9) else "",
                                 display_name=self.short_text())
            return {"op": op, "system_metadata": self.system_metadata(), "instance": inst,
                    "context": self.context(project), "volume_backed": self.chance(0.2)}
        if op == "record_shelved":
            return {"op": op, "system_metadata": self.system_metadata(), "image_id": self.uuid(),
                    "host": "compute-%d" % self.r.randrange(9), "shelved_at": self.timestamp()}
        if op == "remove_shelved_keys":
            sm = self.system_metadata()
            for key in self.r.sample(["shelved_at", "shelved_image_id", "shelved_host"], self.r.randint(0, 3)):
                sm[key] = self.short_text()
            return {"op": op, "system_metadata": sm}
        if op == "ensure_base_image_ref":
            return {"op": op, "system_metadata": self.system_metadata(), "image_ref": self.uuid()}
        if op == "snapshot_volume_backed":
            req = self.snapshot_base(op)
            if self.chance(0.7):
                req["instance"]["root_device_name"] = self.r.choice(["/dev/vda", "/dev/sda", ""])
            for key in ("block_device_mapping", "bdm_v2", "root_device_name"):
                if self.chance(0.3):
                    req["system_metadata"]["image_" + key] = self.short_text()
            if self.chance(0.6):
                req["image_mappings"] = [{"boot_index": i, "source_type": "snapshot",
                                          "snapshot_id": self.uuid(), "device_name": "/dev/vd%s" % "abc"[i]}
                                         for i in range(self.r.randint(0, 3))]
            return req
        if op == "finalize_snapshot_upload":
            project = "p-%d" % self.r.randrange(3)
            sm = self.system_metadata()
            sm.pop("image_container_format", None)
            sm.pop("container_format", None)
            if self.chance(0.6):
                sm["image_container_format"] = self.r.choice(["bare", "ovf", "ova", "docker", "compressed", "ami", None])
            if self.chance(0.5):
                # Releases before 27.5.0 upload an ami source as an ami (and
                # fail without a disk format: a NULL row is none).
                sm["image_disk_format"] = self.r.choice(DISK_FORMATS + ["ami", "ami", "AMI", " ami", None])
            image = {"name": self.short_text(), "visibility": self.r.choice(["private", "shared", "public"]),
                     "properties": self.properties(self.r.randint(0, 5))}
            if self.chance(0.3):
                image["properties"]["kernel_id"] = "aki-old"
            inst = self.instance(project)
            for key in ("kernel_id", "ramdisk_id", "os_type"):
                if self.chance(0.7):
                    inst[key] = self.r.choice(["", "None", "aki-1", "ari-2", "linux", "windows", None])
            return {"op": op, "image": image, "system_metadata": sm, "instance": inst,
                    "disk_format": self.r.choice(["qcow2", "raw", "vmdk", "ploop"])}
        if op == "to_glance":
            return {"op": op, "image": self.nova_image_for_glance()}
        if op == "from_glance":
            return {"op": op, "image": self.glance_body()}
        if op == "from_rows":
            rows = []
            for _ in range(self.r.randint(0, 10)):
                key = self.r.choice(["image_" + self.key(), self.r.choice(UNPREFIXED_SM), "k%d" % self.r.randrange(4)])
                c = self.r.random()
                if c < 0.1:
                    value = None
                elif c < 0.18:
                    # Nova's own unit tests give integers; the field makes
                    # them strings, as it does booleans and floats.
                    value = self.r.choice([0, 7, -3, 10 ** 20, True, False, 1.5, 1e16])
                else:
                    value = self.short_text()
                rows.append({"key": key, "value": value,
                             "deleted": self.r.choice([0, 0, 0, 1, self.r.randint(2, 99), True, False])})
            return {"op": op, "rows": rows, "include_deleted": self.r.choice([True, False, None])}
        if op == "image_from_volume":
            vim = {}
            for key in self.r.sample(["image_id", "image_name", "size", "checksum", "container_format",
                                      "disk_format", "min_ram", "min_disk"], self.r.randint(0, 8)):
                vim[key] = self.r.choice(INT_TEXTS + ["0", "qcow2"]) \
                    if key in ("min_ram", "min_disk") else self.short_text()
            for _ in range(self.r.randint(0, 5)):
                vim[self.r.choice(PLAIN_KEYS)] = self.short_text()
            volume = {"size": self.r.randint(0, 2000), "volume_image_metadata": vim}
            if self.chance(0.1):
                del volume["volume_image_metadata"]
            return {"op": op, "volume": volume}
        return super().request(op)
