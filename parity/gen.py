"""Seeded generator of nova_meta requests for the parity suite.

Every request is built so that the interesting corners of Nova's behaviour
come up often: multi-byte UTF-8 across the 255-byte cut, every JSON type,
skip keys, keys named like inheritable attributes, snapshots used as boot
images, vhd flavors, cross-project snapshots, configured and built-in
non-inheritable properties, os_glance* keys, unprefixed system metadata.
"""
import random
import uuid

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
        choice = self.r.randrange(9)
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
        if self.chance(0.9):
            img["properties"] = self.properties()
            if self.chance(0.3):
                img["properties"]["base_image_ref"] = self.uuid()
        return img

    def minimum(self):
        c = self.r.random()
        if c < 0.7:
            return self.r.choice([0, 1, 5, 10, 20, 40, 80, 512, 2048, self.r.randint(0, 200)])
        if c < 0.85:
            return self.r.choice(["", "10", "512"])  # as system metadata stores them
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
            "user_name": self.short_text() or "alice",
            "project_name": self.short_text() or "demo",
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
            return {"op": op, "image": image, "image_ref": image.get("id") or self.uuid(),
                    "flavor": self.flavor(), "context": self.context("p-0"),
                    "system_metadata": self.system_metadata() if self.chance(0.3) else None}
        if op == "reset_image_metadata":
            image = self.image()
            return {"op": op, "system_metadata": self.system_metadata(), "image": image,
                    "image_id": image.get("id") or self.uuid(), "flavor": self.flavor()}
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
        return req
