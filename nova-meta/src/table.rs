//! The one table of `nova_meta`'s ops: the dispatcher reads an op's fields
//! through it, `--help` prints it, the README's op tables are rendered from
//! it (a test checks them), and the property test draws its fields from it.

/// One field of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Its name in the request object.
    pub name: &'static str,
    /// Whether the op fails without it (`missing_field`).
    pub required: bool,
    /// What it holds, when the name does not say (may be empty).
    pub note: &'static str,
}

/// Which part of the lifecycle an op belongs to (the README's tables).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Create, rebuild and snapshot: the story of bug 1893618.
    Core,
    /// The rest of Nova's lifecycle, and its conversions.
    Lifecycle,
    /// What the crate adds to Nova.
    Beyond,
    /// Nova's typed view of image properties (`ImageMetaProps`, `ImageMeta`).
    Typed,
}

/// One op of the JSON Lines contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Op {
    /// The `op` value.
    pub name: &'static str,
    /// The fields it reads, besides `op`, `id` and `release`.
    pub fields: &'static [Field],
    /// Its `ok` result.
    pub result: &'static str,
    /// Its part of the lifecycle.
    pub group: Group,
}

impl Op {
    /// The op's field `name`, if it has one.
    #[must_use]
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

const fn req(name: &'static str, note: &'static str) -> Field {
    Field {
        name,
        required: true,
        note,
    }
}

const fn opt(name: &'static str, note: &'static str) -> Field {
    Field {
        name,
        required: false,
        note,
    }
}

const SM: Field = req("system_metadata", "");
const INSTANCE: Field = req("instance", "INSTANCE");
const CONTEXT: Field = req("context", "CONTEXT");
const NAME: Field = req("name", "");
const EXTRA: Field = opt("extra_properties", "");
const NON_INHERITABLE: Field = opt("non_inheritable_image_properties", "default: the release's");
const PROFILE: Field = opt("profile", "`nova` (default) or `hardened`");
const ALLOW: Field = opt("allow", "keys the hardened profile keeps anyway");
const FACTS: Field = opt(
    "instance",
    "{`uuid`?, `image_ref`?, `vm_state`?, `release_history`? (the Nova releases that ran the instance's cell; a missing base image ref is then explained)}",
);

/// Every op, in the order of the README's tables.
pub const OPS: [Op; 23] = [
    Op {
        name: "system_metadata_from_image",
        fields: &[req("image", ""), opt("flavor", "")],
        result: "SYSMETA",
        group: Group::Core,
    },
    Op {
        name: "image_from_system_metadata",
        fields: &[SM],
        result: "IMAGE",
        group: Group::Core,
    },
    Op {
        name: "populate_for_create",
        fields: &[
            req("image", ""),
            req("image_ref", ""),
            opt("flavor", ""),
            req("context", "{`user_name`, `project_name`}"),
            opt("system_metadata", "existing, default `{}`"),
        ],
        result: "SYSMETA",
        group: Group::Core,
    },
    Op {
        name: "reset_image_metadata",
        fields: &[
            SM,
            req("image", ""),
            Field {
                name: "image_id",
                required: true,
                note: "string or null; stored as given, whatever the image's own `id`",
            },
            opt("flavor", ""),
            opt("base_image_ref_policy", "`nova` (default), `origin` or `legacy`"),
        ],
        result: "{`system_metadata`: SYSMETA, `orig_system_metadata`: SYSMETA}",
        group: Group::Core,
    },
    Op {
        name: "initialize_snapshot_metadata",
        fields: &[
            SM,
            INSTANCE,
            CONTEXT,
            NAME,
            EXTRA,
            NON_INHERITABLE,
            PROFILE,
            ALLOW,
        ],
        result: "IMAGE; with `hardened`, {`image`: IMAGE, `withheld`: [keys not copied]}",
        group: Group::Core,
    },
    Op {
        name: "create_image",
        fields: &[
            SM,
            INSTANCE,
            CONTEXT,
            NAME,
            req("image_type", "`snapshot` or `backup`"),
            EXTRA,
            NON_INHERITABLE,
            PROFILE,
            ALLOW,
        ],
        result: "as `initialize_snapshot_metadata`",
        group: Group::Core,
    },
    Op {
        name: "backup",
        fields: &[
            SM,
            INSTANCE,
            CONTEXT,
            NAME,
            req("backup_type", ""),
            EXTRA,
            NON_INHERITABLE,
            PROFILE,
            ALLOW,
        ],
        result: "as `initialize_snapshot_metadata` (Nova's `backup`: `create_image` with type `backup` and `backup_type` added to the extra properties)",
        group: Group::Lifecycle,
    },
    Op {
        name: "rotate_backups",
        fields: &[
            req("instance_uuid", ""),
            req("backup_type", ""),
            req("rotation", "integer >= 0"),
            req("images", "[{`id`, `created_at` (ISO 8601), `properties`}]"),
        ],
        result: "{`delete`: [ids, oldest first]}: only images whose properties say `image_type: backup`, this `backup_type` and this `instance_uuid` count",
        group: Group::Lifecycle,
    },
    Op {
        name: "shelve",
        fields: &[
            SM,
            req("instance", "INSTANCE + `display_name`, `image_ref`"),
            CONTEXT,
            opt("volume_backed", "default false"),
            NON_INHERITABLE,
            PROFILE,
            ALLOW,
        ],
        result: "{`system_metadata`: SYSMETA with `image_base_image_ref` ensured (from 21.2.1), `image`: the `<display_name>-shelved` snapshot IMAGE, or null when volume-backed}",
        group: Group::Lifecycle,
    },
    Op {
        name: "record_shelved",
        fields: &[
            SM,
            req("image_id", ""),
            req("host", ""),
            req("shelved_at", "string, stored as given"),
        ],
        result: "SYSMETA",
        group: Group::Lifecycle,
    },
    Op {
        name: "remove_shelved_keys",
        fields: &[SM],
        result: "SYSMETA",
        group: Group::Lifecycle,
    },
    Op {
        name: "ensure_base_image_ref",
        fields: &[SM, req("image_ref", "")],
        result: "SYSMETA as the release's `API.resize` leaves it (healed from 23.0.0, unchanged before)",
        group: Group::Lifecycle,
    },
    Op {
        name: "snapshot_volume_backed",
        fields: &[
            SM,
            req("instance", "INSTANCE + `root_device_name`?"),
            CONTEXT,
            NAME,
            EXTRA,
            opt(
                "image_mappings",
                "list of block-device-mapping objects for the image",
            ),
            NON_INHERITABLE,
            PROFILE,
            ALLOW,
        ],
        result: "as `initialize_snapshot_metadata`",
        group: Group::Lifecycle,
    },
    Op {
        name: "finalize_snapshot_upload",
        fields: &[
            req("image", "the IMAGE as created"),
            SM,
            req("instance", "INSTANCE + `kernel_id`?, `ramdisk_id`?, `os_type`?"),
            req("disk_format", "the uploaded format"),
        ],
        result: "IMAGE after the driver's update (properties merged, the driver's win)",
        group: Group::Lifecycle,
    },
    Op {
        name: "to_glance",
        fields: &[req("image", "Nova image dict")],
        result: "the Glance v2 request body (`_translate_to_glance`)",
        group: Group::Lifecycle,
    },
    Op {
        name: "from_glance",
        fields: &[req("image", "a Glance v2 image body")],
        result: "Nova image dict (`_translate_from_glance`, timestamps left as strings; base properties are the 25 of the image schema the Glance server publishes)",
        group: Group::Lifecycle,
    },
    Op {
        name: "from_rows",
        fields: &[
            req("rows", "[{`key`, `value`, `deleted`}]"),
            opt("include_deleted", "default false"),
        ],
        result: "SYSMETA (`metadata_to_dict`)",
        group: Group::Lifecycle,
    },
    Op {
        name: "image_from_volume",
        fields: &[req(
            "volume",
            "a Cinder volume body with `size` and `volume_image_metadata`",
        )],
        result: "IMAGE (`get_image_metadata_from_volume` of nova/block_device.py)",
        group: Group::Lifecycle,
    },
    Op {
        name: "audit",
        fields: &[SM, FACTS],
        result: "{`findings`: [{`kind`, `severity` (`error`, `warning`, `info`), `key` (string or null), `message`}]}",
        group: Group::Beyond,
    },
    Op {
        name: "repair",
        fields: &[SM, FACTS],
        result: "{`system_metadata`: SYSMETA, `changes`: [{`key`, `old` (string or null), `new` (string or null), `fixes` (a finding kind)}]}",
        group: Group::Beyond,
    },
    Op {
        name: "lineage",
        fields: &[
            req("instance", "{`uuid`, `image_ref`}"),
            req("images", "[{`id`, `properties`}]"),
        ],
        result: "{`chain`: [image ids from the instance's image back to the origin], `problems`: [{`kind` (`cycle` or `missing`), `image_id`}]}",
        group: Group::Beyond,
    },
    Op {
        name: "image_meta_props",
        fields: &[req("properties", "an image's properties, as Glance stores them")],
        result: "DATA of `ImageMetaProps.from_dict(properties)`",
        group: Group::Typed,
    },
    Op {
        name: "image_meta_from_system_metadata",
        fields: &[SM],
        result: "DATA of `ImageMeta.from_dict(get_image_from_system_metadata(system_metadata))`, `properties` as its own DATA",
        group: Group::Typed,
    },
];

/// The op named `name`.
#[must_use]
pub fn op(name: &str) -> Option<&'static Op> {
    OPS.iter().find(|op| op.name == name)
}

/// One field as the README and `--help` write it: `` `name` ``, `?` when
/// optional, its note in parentheses (or, for a shape in braces or
/// brackets, after a space).
fn render_field(field: &Field) -> String {
    let mut out = format!("`{}`", field.name);
    if !field.required {
        out.push('?');
    }
    match field.note {
        "" => {}
        note if note.starts_with(['{', '['])
            || note.starts_with("INSTANCE")
            || note.starts_with("CONTEXT") =>
        {
            out.push(' ');
            out.push_str(note);
        }
        note => {
            out.push_str(" (");
            out.push_str(note);
            out.push(')');
        }
    }
    out
}

/// The Markdown table of the ops of `group`, as the README holds it.
#[must_use]
pub fn markdown(group: Group) -> String {
    let mut out = String::from("| op | request fields | `ok` result |\n|---|---|---|\n");
    for op in OPS.iter().filter(|op| op.group == group) {
        let fields: Vec<String> = op.fields.iter().map(render_field).collect();
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            op.name,
            fields.join(", "),
            op.result
        ));
    }
    out
}

/// The ops and their fields, for `--help`.
#[must_use]
pub fn help() -> String {
    let mut out = String::from(
        "Ops (every request may also carry \"id\", echoed, and \"release\", the Nova version; default 34.0.0):\n",
    );
    for op in &OPS {
        let fields: Vec<String> = op.fields.iter().map(render_field).collect();
        out.push_str(&format!(
            "  {}: {}\n",
            op.name,
            fields.join(", ").replace('`', "")
        ));
    }
    out
}
