// ---- AllKinds ----

impl ::strata::Model for AllKinds {
    type Key = u64;
    const NAME: &'static str = "AllKinds";
    const TABLE: &'static str = "all_kinds";
    const COLUMNS: &'static [::strata::ColumnDef] = &[
        ::strata::ColumnDef::of::<u64>("id").primary_key(),
        ::strata::ColumnDef::of::<bool>("a_bool"),
        ::strata::ColumnDef::of::<u8>("a_u8"),
        ::strata::ColumnDef::of::<i8>("a_i8"),
        ::strata::ColumnDef::of::<u16>("a_u16"),
        ::strata::ColumnDef::of::<i16>("a_i16").index().index_table("all_kinds#a_i16"),
        ::strata::ColumnDef::of::<u32>("a_u32"),
        ::strata::ColumnDef::of::<i32>("a_i32"),
        ::strata::ColumnDef::of::<f64>("a_f64"),
        ::strata::ColumnDef::of::<String>("a_string")
            .unique()
            .max_len(64usize)
            .index_table("all_kinds#a_string"),
        ::strata::ColumnDef::of::<Vec<u8>>("a_bytes").max_len(16usize),
        ::strata::ColumnDef::of::<Option<i64>>("maybe_i64"),
        ::strata::ColumnDef::of::<Option<f64>>("maybe_f64"),
        ::strata::ColumnDef::of::<Option<String>>("maybe_string")
            .index()
            .index_table("all_kinds#maybe_string"),
        ::strata::ColumnDef::of::<Option<Vec<u8>>>("maybe_bytes"),
        ::strata::ColumnDef::of::<Option<bool>>("maybe_bool"),
    ];
    const PRIMARY_KEY: usize = 0usize;
    const AUTO_KEY: bool = <u64 as ::strata::ColumnType>::KIND.is_integer();
    const DELETE_RULES: &'static [::strata::DeleteRule] = &[];
    const ASSOCIATIONS: &'static [::strata::AssociationDef] = &[];
    fn set_value(&mut self, column: usize, value: ::strata::Value) -> bool {
        match column {
            0usize => {
                match <u64 as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.id = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            1usize => {
                match <bool as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.a_bool = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            2usize => {
                match <u8 as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.a_u8 = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            3usize => {
                match <i8 as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.a_i8 = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            4usize => {
                match <u16 as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.a_u16 = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            5usize => {
                match <i16 as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.a_i16 = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            6usize => {
                match <u32 as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.a_u32 = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            7usize => {
                match <i32 as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.a_i32 = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            8usize => {
                match <f64 as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.a_f64 = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            9usize => {
                match <String as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.a_string = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            10usize => {
                match <Vec<u8> as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.a_bytes = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            11usize => {
                match <Option<i64> as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.maybe_i64 = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            12usize => {
                match <Option<f64> as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.maybe_f64 = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            13usize => {
                match <Option<String> as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.maybe_string = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            14usize => {
                match <Option<Vec<u8>> as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.maybe_bytes = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            15usize => {
                match <Option<bool> as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.maybe_bool = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            _ => false,
        }
    }
    fn value(&self, column: usize) -> ::strata::Value {
        match column {
            0usize => ::strata::ColumnType::to_value(&self.id),
            1usize => ::strata::ColumnType::to_value(&self.a_bool),
            2usize => ::strata::ColumnType::to_value(&self.a_u8),
            3usize => ::strata::ColumnType::to_value(&self.a_i8),
            4usize => ::strata::ColumnType::to_value(&self.a_u16),
            5usize => ::strata::ColumnType::to_value(&self.a_i16),
            6usize => ::strata::ColumnType::to_value(&self.a_u32),
            7usize => ::strata::ColumnType::to_value(&self.a_i32),
            8usize => ::strata::ColumnType::to_value(&self.a_f64),
            9usize => ::strata::ColumnType::to_value(&self.a_string),
            10usize => ::strata::ColumnType::to_value(&self.a_bytes),
            11usize => ::strata::ColumnType::to_value(&self.maybe_i64),
            12usize => ::strata::ColumnType::to_value(&self.maybe_f64),
            13usize => ::strata::ColumnType::to_value(&self.maybe_string),
            14usize => ::strata::ColumnType::to_value(&self.maybe_bytes),
            15usize => ::strata::ColumnType::to_value(&self.maybe_bool),
            _ => ::strata::Value::Null,
        }
    }
    fn value_ref(&self, column: usize) -> ::strata::ValueRef<'_> {
        match column {
            0usize => ::strata::ColumnType::value_ref(&self.id),
            1usize => ::strata::ColumnType::value_ref(&self.a_bool),
            2usize => ::strata::ColumnType::value_ref(&self.a_u8),
            3usize => ::strata::ColumnType::value_ref(&self.a_i8),
            4usize => ::strata::ColumnType::value_ref(&self.a_u16),
            5usize => ::strata::ColumnType::value_ref(&self.a_i16),
            6usize => ::strata::ColumnType::value_ref(&self.a_u32),
            7usize => ::strata::ColumnType::value_ref(&self.a_i32),
            8usize => ::strata::ColumnType::value_ref(&self.a_f64),
            9usize => ::strata::ColumnType::value_ref(&self.a_string),
            10usize => ::strata::ColumnType::value_ref(&self.a_bytes),
            11usize => ::strata::ColumnType::value_ref(&self.maybe_i64),
            12usize => ::strata::ColumnType::value_ref(&self.maybe_f64),
            13usize => ::strata::ColumnType::value_ref(&self.maybe_string),
            14usize => ::strata::ColumnType::value_ref(&self.maybe_bytes),
            15usize => ::strata::ColumnType::value_ref(&self.maybe_bool),
            _ => ::strata::ValueRef::Null,
        }
    }
    fn set_auto_key(&mut self, key: i64) -> bool {
        match ::strata::__auto_key::<u64>(key) {
            ::core::option::Option::Some(k) => {
                self.id = k;
                true
            }
            ::core::option::Option::None => false,
        }
    }
    fn set_null(&mut self, column: usize) -> bool {
        match column {
            11usize => {
                self.maybe_i64 = ::core::option::Option::None;
                true
            }
            12usize => {
                self.maybe_f64 = ::core::option::Option::None;
                true
            }
            13usize => {
                self.maybe_string = ::core::option::Option::None;
                true
            }
            14usize => {
                self.maybe_bytes = ::core::option::Option::None;
                true
            }
            15usize => {
                self.maybe_bool = ::core::option::Option::None;
                true
            }
            _ => false,
        }
    }
    fn delete_children<S: ::strata::ReferentialActions>(
        &self,
        session: &mut S,
    ) -> ::strata::Result<()> {
        let key = ::strata::Model::key_value(self);
        let _ = (&key, &session);
        Ok(())
    }
    fn check_cascade<S: ::strata::ReferentialActions>(
        &self,
        session: &S,
        seen: &mut ::std::vec::Vec<(&'static str, ::strata::Value)>,
    ) -> ::strata::Result<()> {
        let key = ::strata::Model::key_value(self);
        let _ = (&key, &session, &seen);
        Ok(())
    }
}
#[allow(non_upper_case_globals)]
impl AllKinds {
    ///The `id` column, for queries.
    pub(crate) const id: ::strata::Column<AllKinds, u64> = ::strata::Column::new(0usize);
    ///The `a_bool` column, for queries.
    pub(crate) const a_bool: ::strata::Column<AllKinds, bool> = ::strata::Column::new(
        1usize,
    );
    ///The `a_u8` column, for queries.
    pub(crate) const a_u8: ::strata::Column<AllKinds, u8> = ::strata::Column::new(
        2usize,
    );
    ///The `a_i8` column, for queries.
    pub(crate) const a_i8: ::strata::Column<AllKinds, i8> = ::strata::Column::new(
        3usize,
    );
    ///The `a_u16` column, for queries.
    pub(crate) const a_u16: ::strata::Column<AllKinds, u16> = ::strata::Column::new(
        4usize,
    );
    ///The `a_i16` column, for queries.
    pub(crate) const a_i16: ::strata::Column<AllKinds, i16> = ::strata::Column::new(
        5usize,
    );
    ///The `a_u32` column, for queries.
    pub(crate) const a_u32: ::strata::Column<AllKinds, u32> = ::strata::Column::new(
        6usize,
    );
    ///The `a_i32` column, for queries.
    pub(crate) const a_i32: ::strata::Column<AllKinds, i32> = ::strata::Column::new(
        7usize,
    );
    ///The `a_f64` column, for queries.
    pub(crate) const a_f64: ::strata::Column<AllKinds, f64> = ::strata::Column::new(
        8usize,
    );
    ///The `a_string` column, for queries.
    pub(crate) const a_string: ::strata::Column<AllKinds, String> = ::strata::Column::new(
        9usize,
    );
    ///The `a_bytes` column, for queries.
    pub(crate) const a_bytes: ::strata::Column<AllKinds, Vec<u8>> = ::strata::Column::new(
        10usize,
    );
    ///The `maybe_i64` column, for queries.
    pub(crate) const maybe_i64: ::strata::Column<AllKinds, Option<i64>> = ::strata::Column::new(
        11usize,
    );
    ///The `maybe_f64` column, for queries.
    pub(crate) const maybe_f64: ::strata::Column<AllKinds, Option<f64>> = ::strata::Column::new(
        12usize,
    );
    ///The `maybe_string` column, for queries.
    pub(crate) const maybe_string: ::strata::Column<AllKinds, Option<String>> = ::strata::Column::new(
        13usize,
    );
    ///The `maybe_bytes` column, for queries.
    pub(crate) const maybe_bytes: ::strata::Column<AllKinds, Option<Vec<u8>>> = ::strata::Column::new(
        14usize,
    );
    ///The `maybe_bool` column, for queries.
    pub(crate) const maybe_bool: ::strata::Column<AllKinds, Option<bool>> = ::strata::Column::new(
        15usize,
    );
}
const _: () = assert!(
    < u64 as ::strata::ColumnType > ::INDEXABLE,
    "`id` cannot be a key or indexed: its type's encoding does not order its values"
);
const _: () = assert!(
    < i16 as ::strata::ColumnType > ::INDEXABLE,
    "`a_i16` cannot be a key or indexed: its type's encoding does not order its values"
);
const _: () = assert!(
    < String as ::strata::ColumnType > ::INDEXABLE,
    "`a_string` cannot be a key or indexed: its type's encoding does not order its values"
);
const _: () = assert!(
    < Option < String > as ::strata::ColumnType > ::INDEXABLE,
    "`maybe_string` cannot be a key or indexed: its type's encoding does not order its values"
);
impl ::core::fmt::Display for AllKinds {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        write!(f, "<{}", "AllKinds")?;
        f.write_str(" id=")?;
        write!(f, "{:?}", self.id)?;
        f.write_str(" a_bool=")?;
        write!(f, "{:?}", self.a_bool)?;
        f.write_str(" a_u8=")?;
        write!(f, "{:?}", self.a_u8)?;
        f.write_str(" a_i8=")?;
        write!(f, "{:?}", self.a_i8)?;
        f.write_str(" a_u16=")?;
        write!(f, "{:?}", self.a_u16)?;
        f.write_str(" a_i16=")?;
        write!(f, "{:?}", self.a_i16)?;
        f.write_str(" a_u32=")?;
        write!(f, "{:?}", self.a_u32)?;
        f.write_str(" a_i32=")?;
        write!(f, "{:?}", self.a_i32)?;
        f.write_str(" a_f64=")?;
        write!(f, "{:?}", self.a_f64)?;
        f.write_str(" a_string=")?;
        write!(f, "'{}'", self.a_string)?;
        f.write_str(" a_bytes=")?;
        write!(f, "{:?}", self.a_bytes)?;
        f.write_str(" maybe_i64=")?;
        write!(f, "{:?}", self.maybe_i64)?;
        f.write_str(" maybe_f64=")?;
        write!(f, "{:?}", self.maybe_f64)?;
        f.write_str(" maybe_string=")?;
        write!(f, "{:?}", self.maybe_string)?;
        f.write_str(" maybe_bytes=")?;
        write!(f, "{:?}", self.maybe_bytes)?;
        f.write_str(" maybe_bool=")?;
        write!(f, "{:?}", self.maybe_bool)?;
        write!(f, ">")
    }
}

// ---- CarOwner ----

impl ::strata::Model for CarOwner {
    type Key = i64;
    const NAME: &'static str = "CarOwner";
    const TABLE: &'static str = "car_owner";
    const COLUMNS: &'static [::strata::ColumnDef] = &[
        ::strata::ColumnDef::of::<i64>("id").primary_key(),
        ::strata::ColumnDef::of::<Option<String>>("name").max_len(40usize),
    ];
    const PRIMARY_KEY: usize = 0usize;
    const AUTO_KEY: bool = <i64 as ::strata::ColumnType>::KIND.is_integer();
    const DELETE_RULES: &'static [::strata::DeleteRule] = &[
        ::strata::DeleteRule {
            child_table: <Car as ::strata::Model>::TABLE,
            column: "owner_id",
            rule: ::strata::OnDelete::SetNull,
        },
        ::strata::DeleteRule {
            child_table: <Passport as ::strata::Model>::TABLE,
            column: "holder_id",
            rule: ::strata::OnDelete::Restrict,
        },
        ::strata::DeleteRule {
            child_table: <Note as ::strata::Model>::TABLE,
            column: "about",
            rule: ::strata::OnDelete::Restrict,
        },
    ];
    const ASSOCIATIONS: &'static [::strata::AssociationDef] = &[];
    fn set_value(&mut self, column: usize, value: ::strata::Value) -> bool {
        match column {
            0usize => {
                match <i64 as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.id = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            1usize => {
                match <Option<String> as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.name = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            _ => false,
        }
    }
    fn value(&self, column: usize) -> ::strata::Value {
        match column {
            0usize => ::strata::ColumnType::to_value(&self.id),
            1usize => ::strata::ColumnType::to_value(&self.name),
            _ => ::strata::Value::Null,
        }
    }
    fn value_ref(&self, column: usize) -> ::strata::ValueRef<'_> {
        match column {
            0usize => ::strata::ColumnType::value_ref(&self.id),
            1usize => ::strata::ColumnType::value_ref(&self.name),
            _ => ::strata::ValueRef::Null,
        }
    }
    fn set_auto_key(&mut self, key: i64) -> bool {
        match ::strata::__auto_key::<i64>(key) {
            ::core::option::Option::Some(k) => {
                self.id = k;
                true
            }
            ::core::option::Option::None => false,
        }
    }
    fn set_null(&mut self, column: usize) -> bool {
        match column {
            1usize => {
                self.name = ::core::option::Option::None;
                true
            }
            _ => false,
        }
    }
    fn delete_children<S: ::strata::ReferentialActions>(
        &self,
        session: &mut S,
    ) -> ::strata::Result<()> {
        let key = ::strata::Model::key_value(self);
        let _ = (&key, &session);
        session
            .apply_delete_rule::<
                Car,
            >(Car::owner_id.index(), &key, ::strata::OnDelete::SetNull)?;
        session
            .apply_delete_rule::<
                Passport,
            >(Passport::holder_id.index(), &key, ::strata::OnDelete::Restrict)?;
        session
            .apply_delete_rule::<
                Note,
            >(Note::about.index(), &key, ::strata::OnDelete::Restrict)?;
        Ok(())
    }
    fn check_cascade<S: ::strata::ReferentialActions>(
        &self,
        session: &S,
        seen: &mut ::std::vec::Vec<(&'static str, ::strata::Value)>,
    ) -> ::strata::Result<()> {
        let key = ::strata::Model::key_value(self);
        let _ = (&key, &session, &seen);
        Ok(())
    }
}
#[allow(non_upper_case_globals)]
impl CarOwner {
    ///The `id` column, for queries.
    const id: ::strata::Column<CarOwner, i64> = ::strata::Column::new(0usize);
    ///The `name` column, for queries.
    const name: ::strata::Column<CarOwner, Option<String>> = ::strata::Column::new(
        1usize,
    );
    ///The `Car` rows whose `owner_id` refers to this one (one-to-many).
    const cars: ::strata::HasMany<CarOwner, Car> = ::strata::HasMany::new(Car::owner_id);
    ///The `Passport` row whose `holder_id` refers to this one (one-to-one).
    const passport: ::strata::HasOne<CarOwner, Passport> = ::strata::HasOne::new(
        Passport::holder_id,
    );
    ///The `Note` rows whose `about` refers to this one (one-to-many).
    const notes: ::strata::HasMany<CarOwner, Note> = ::strata::HasMany::new(Note::about);
}
#[allow(non_upper_case_globals)]
impl Car {
    ///The `CarOwner` row this one's `owner_id` refers to.
    pub const owner: ::strata::BelongsTo<Car, CarOwner> = ::strata::BelongsTo::new(
        Car::owner_id,
    );
}
#[allow(non_upper_case_globals)]
impl Passport {
    ///The `CarOwner` row this one's `holder_id` refers to.
    pub const holder: ::strata::BelongsTo<Passport, CarOwner> = ::strata::BelongsTo::new(
        Passport::holder_id,
    );
}
const _: () = assert!(
    ::strata::__refers_to(< Car as ::strata::Model > ::COLUMNS, Car::owner_id.index(),
    "car_owner"),
    "the `fk` of has_many/has_one must be a field of the child marked #[strata(foreign_key = <this model>)]",
);
const _: () = assert!(
    ::strata::__nullable(< Car as ::strata::Model > ::COLUMNS, Car::owner_id.index()),
    "on_delete = set_null needs the child's foreign key to be an Option",
);
const _: () = assert!(
    ::strata::__refers_to(< Passport as ::strata::Model > ::COLUMNS, Passport::holder_id
    .index(), "car_owner"),
    "the `fk` of has_many/has_one must be a field of the child marked #[strata(foreign_key = <this model>)]",
);
const _: () = assert!(
    ::strata::__unique(< Passport as ::strata::Model > ::COLUMNS, Passport::holder_id
    .index()),
    "the `fk` of has_one must be unique: mark it #[strata(unique, foreign_key = ...)]",
);
const _: () = assert!(
    ::strata::__refers_to(< Note as ::strata::Model > ::COLUMNS, Note::about.index(),
    "car_owner"),
    "the `fk` of has_many/has_one must be a field of the child marked #[strata(foreign_key = <this model>)]",
);
const _: () = assert!(
    < i64 as ::strata::ColumnType > ::INDEXABLE,
    "`id` cannot be a key or indexed: its type's encoding does not order its values"
);
impl ::core::fmt::Display for CarOwner {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        write!(f, "<{} ", "CarOwner")?;
        write!(f, "{:?}", self.name)?;
        write!(f, ">")
    }
}

// ---- Car ----

impl ::strata::Model for Car {
    type Key = i32;
    const NAME: &'static str = "Car";
    const TABLE: &'static str = "cars";
    const COLUMNS: &'static [::strata::ColumnDef] = &[
        ::strata::ColumnDef::of::<i32>("id").primary_key(),
        ::strata::ColumnDef::of::<String>("plate"),
        ::strata::ColumnDef::of::<Option<i64>>("owner_id")
            .foreign_key(<CarOwner as ::strata::Model>::TABLE)
            .index_table("cars#owner_id"),
    ];
    const PRIMARY_KEY: usize = 0usize;
    const AUTO_KEY: bool = <i32 as ::strata::ColumnType>::KIND.is_integer();
    const DELETE_RULES: &'static [::strata::DeleteRule] = &[];
    const ASSOCIATIONS: &'static [::strata::AssociationDef] = &[];
    fn set_value(&mut self, column: usize, value: ::strata::Value) -> bool {
        match column {
            0usize => {
                match <i32 as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.id = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            1usize => {
                match <String as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.plate = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            2usize => {
                match <Option<i64> as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.owner_id = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            _ => false,
        }
    }
    fn value(&self, column: usize) -> ::strata::Value {
        match column {
            0usize => ::strata::ColumnType::to_value(&self.id),
            1usize => ::strata::ColumnType::to_value(&self.plate),
            2usize => ::strata::ColumnType::to_value(&self.owner_id),
            _ => ::strata::Value::Null,
        }
    }
    fn value_ref(&self, column: usize) -> ::strata::ValueRef<'_> {
        match column {
            0usize => ::strata::ColumnType::value_ref(&self.id),
            1usize => ::strata::ColumnType::value_ref(&self.plate),
            2usize => ::strata::ColumnType::value_ref(&self.owner_id),
            _ => ::strata::ValueRef::Null,
        }
    }
    fn set_auto_key(&mut self, key: i64) -> bool {
        match ::strata::__auto_key::<i32>(key) {
            ::core::option::Option::Some(k) => {
                self.id = k;
                true
            }
            ::core::option::Option::None => false,
        }
    }
    fn set_null(&mut self, column: usize) -> bool {
        match column {
            2usize => {
                self.owner_id = ::core::option::Option::None;
                true
            }
            _ => false,
        }
    }
    fn delete_children<S: ::strata::ReferentialActions>(
        &self,
        session: &mut S,
    ) -> ::strata::Result<()> {
        let key = ::strata::Model::key_value(self);
        let _ = (&key, &session);
        Ok(())
    }
    fn check_cascade<S: ::strata::ReferentialActions>(
        &self,
        session: &S,
        seen: &mut ::std::vec::Vec<(&'static str, ::strata::Value)>,
    ) -> ::strata::Result<()> {
        let key = ::strata::Model::key_value(self);
        let _ = (&key, &session, &seen);
        Ok(())
    }
}
#[allow(non_upper_case_globals)]
impl Car {
    ///The `id` column, for queries.
    const id: ::strata::Column<Car, i32> = ::strata::Column::new(0usize);
    ///The `plate` column, for queries.
    const plate: ::strata::Column<Car, String> = ::strata::Column::new(1usize);
    ///The `owner_id` column, for queries.
    const owner_id: ::strata::Column<Car, Option<i64>> = ::strata::Column::new(2usize);
}
const _: () = assert!(
    ::strata::__same_kind(< Option < i64 > as ::strata::ColumnType > ::KIND, < CarOwner
    as ::strata::Model > ::COLUMNS, < CarOwner as ::strata::Model > ::PRIMARY_KEY,),
    "a foreign key must have the type of the primary key it refers to",
);
const _: () = assert!(
    < i32 as ::strata::ColumnType > ::INDEXABLE,
    "`id` cannot be a key or indexed: its type's encoding does not order its values"
);
const _: () = assert!(
    < Option < i64 > as ::strata::ColumnType > ::INDEXABLE,
    "`owner_id` cannot be a key or indexed: its type's encoding does not order its values"
);
impl ::core::fmt::Display for Car {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        write!(f, "<{}", "Car")?;
        f.write_str(" id=")?;
        write!(f, "{:?}", self.id)?;
        f.write_str(" plate=")?;
        write!(f, "'{}'", self.plate)?;
        f.write_str(" owner_id=")?;
        write!(f, "{:?}", self.owner_id)?;
        write!(f, ">")
    }
}

// ---- Passport ----

impl ::strata::Model for Passport {
    type Key = String;
    const NAME: &'static str = "Passport";
    const TABLE: &'static str = "passport";
    const COLUMNS: &'static [::strata::ColumnDef] = &[
        ::strata::ColumnDef::of::<String>("number").primary_key(),
        ::strata::ColumnDef::of::<i64>("holder_id")
            .unique()
            .foreign_key(<CarOwner as ::strata::Model>::TABLE)
            .index_table("passport#holder_id"),
    ];
    const PRIMARY_KEY: usize = 0usize;
    const AUTO_KEY: bool = <String as ::strata::ColumnType>::KIND.is_integer();
    const DELETE_RULES: &'static [::strata::DeleteRule] = &[];
    const ASSOCIATIONS: &'static [::strata::AssociationDef] = &[];
    fn set_value(&mut self, column: usize, value: ::strata::Value) -> bool {
        match column {
            0usize => {
                match <String as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.number = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            1usize => {
                match <i64 as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.holder_id = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            _ => false,
        }
    }
    fn value(&self, column: usize) -> ::strata::Value {
        match column {
            0usize => ::strata::ColumnType::to_value(&self.number),
            1usize => ::strata::ColumnType::to_value(&self.holder_id),
            _ => ::strata::Value::Null,
        }
    }
    fn value_ref(&self, column: usize) -> ::strata::ValueRef<'_> {
        match column {
            0usize => ::strata::ColumnType::value_ref(&self.number),
            1usize => ::strata::ColumnType::value_ref(&self.holder_id),
            _ => ::strata::ValueRef::Null,
        }
    }
    fn set_auto_key(&mut self, key: i64) -> bool {
        match ::strata::__auto_key::<String>(key) {
            ::core::option::Option::Some(k) => {
                self.number = k;
                true
            }
            ::core::option::Option::None => false,
        }
    }
    fn set_null(&mut self, column: usize) -> bool {
        match column {
            _ => false,
        }
    }
    fn delete_children<S: ::strata::ReferentialActions>(
        &self,
        session: &mut S,
    ) -> ::strata::Result<()> {
        let key = ::strata::Model::key_value(self);
        let _ = (&key, &session);
        Ok(())
    }
    fn check_cascade<S: ::strata::ReferentialActions>(
        &self,
        session: &S,
        seen: &mut ::std::vec::Vec<(&'static str, ::strata::Value)>,
    ) -> ::strata::Result<()> {
        let key = ::strata::Model::key_value(self);
        let _ = (&key, &session, &seen);
        Ok(())
    }
}
#[allow(non_upper_case_globals)]
impl Passport {
    ///The `number` column, for queries.
    const number: ::strata::Column<Passport, String> = ::strata::Column::new(0usize);
    ///The `holder_id` column, for queries.
    const holder_id: ::strata::Column<Passport, i64> = ::strata::Column::new(1usize);
}
const _: () = assert!(
    ::strata::__same_kind(< i64 as ::strata::ColumnType > ::KIND, < CarOwner as
    ::strata::Model > ::COLUMNS, < CarOwner as ::strata::Model > ::PRIMARY_KEY,),
    "a foreign key must have the type of the primary key it refers to",
);
const _: () = assert!(
    < String as ::strata::ColumnType > ::INDEXABLE,
    "`number` cannot be a key or indexed: its type's encoding does not order its values"
);
const _: () = assert!(
    < i64 as ::strata::ColumnType > ::INDEXABLE,
    "`holder_id` cannot be a key or indexed: its type's encoding does not order its values"
);
impl ::core::fmt::Display for Passport {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        write!(f, "<{}", "Passport")?;
        f.write_str(" number=")?;
        write!(f, "'{}'", self.number)?;
        f.write_str(" holder_id=")?;
        write!(f, "{:?}", self.holder_id)?;
        write!(f, ">")
    }
}

// ---- Note ----

impl ::strata::Model for Note {
    type Key = Vec<u8>;
    const NAME: &'static str = "Note";
    const TABLE: &'static str = "note";
    const COLUMNS: &'static [::strata::ColumnDef] = &[
        ::strata::ColumnDef::of::<Vec<u8>>("key").primary_key(),
        ::strata::ColumnDef::of::<i64>("about")
            .foreign_key(<CarOwner as ::strata::Model>::TABLE)
            .index_table("note#about"),
    ];
    const PRIMARY_KEY: usize = 0usize;
    const AUTO_KEY: bool = <Vec<u8> as ::strata::ColumnType>::KIND.is_integer();
    const DELETE_RULES: &'static [::strata::DeleteRule] = &[];
    const ASSOCIATIONS: &'static [::strata::AssociationDef] = &[
        ::strata::AssociationDef {
            through: "note_owners",
            target: <CarOwner as ::strata::Model>::TABLE,
        },
    ];
    fn set_value(&mut self, column: usize, value: ::strata::Value) -> bool {
        match column {
            0usize => {
                match <Vec<u8> as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.key = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            1usize => {
                match <i64 as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.about = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            _ => false,
        }
    }
    fn value(&self, column: usize) -> ::strata::Value {
        match column {
            0usize => ::strata::ColumnType::to_value(&self.key),
            1usize => ::strata::ColumnType::to_value(&self.about),
            _ => ::strata::Value::Null,
        }
    }
    fn value_ref(&self, column: usize) -> ::strata::ValueRef<'_> {
        match column {
            0usize => ::strata::ColumnType::value_ref(&self.key),
            1usize => ::strata::ColumnType::value_ref(&self.about),
            _ => ::strata::ValueRef::Null,
        }
    }
    fn set_auto_key(&mut self, key: i64) -> bool {
        match ::strata::__auto_key::<Vec<u8>>(key) {
            ::core::option::Option::Some(k) => {
                self.key = k;
                true
            }
            ::core::option::Option::None => false,
        }
    }
    fn set_null(&mut self, column: usize) -> bool {
        match column {
            _ => false,
        }
    }
    fn delete_children<S: ::strata::ReferentialActions>(
        &self,
        session: &mut S,
    ) -> ::strata::Result<()> {
        let key = ::strata::Model::key_value(self);
        let _ = (&key, &session);
        Ok(())
    }
    fn check_cascade<S: ::strata::ReferentialActions>(
        &self,
        session: &S,
        seen: &mut ::std::vec::Vec<(&'static str, ::strata::Value)>,
    ) -> ::strata::Result<()> {
        let key = ::strata::Model::key_value(self);
        let _ = (&key, &session, &seen);
        Ok(())
    }
}
#[allow(non_upper_case_globals)]
impl Note {
    ///The `key` column, for queries.
    const key: ::strata::Column<Note, Vec<u8>> = ::strata::Column::new(0usize);
    ///The `about` column, for queries.
    const about: ::strata::Column<Note, i64> = ::strata::Column::new(1usize);
    ///The `CarOwner` rows linked to this one through `note_owners` (many-to-many).
    const owners: ::strata::ManyToMany<Note, CarOwner> = ::strata::ManyToMany::owned(
        "note_owners",
    );
}
const _: () = assert!(
    ::strata::__same_kind(< i64 as ::strata::ColumnType > ::KIND, < CarOwner as
    ::strata::Model > ::COLUMNS, < CarOwner as ::strata::Model > ::PRIMARY_KEY,),
    "a foreign key must have the type of the primary key it refers to",
);
const _: () = assert!(
    < Vec < u8 > as ::strata::ColumnType > ::INDEXABLE,
    "`key` cannot be a key or indexed: its type's encoding does not order its values"
);
const _: () = assert!(
    < i64 as ::strata::ColumnType > ::INDEXABLE,
    "`about` cannot be a key or indexed: its type's encoding does not order its values"
);
impl ::core::fmt::Display for Note {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        write!(f, "<{}", "Note")?;
        f.write_str(" key=")?;
        write!(f, "{:?}", self.key)?;
        f.write_str(" about=")?;
        write!(f, "{:?}", self.about)?;
        write!(f, ">")
    }
}

// ---- NoKey ----

::core::compile_error! {
    "model `NoKey` has no primary key: mark one field #[strata(primary_key)]"
}
impl ::strata::Model for NoKey {
    type Key = i64;
    const NAME: &'static str = "NoKey";
    const TABLE: &'static str = "NoKey";
    const COLUMNS: &'static [::strata::ColumnDef] = &[];
    const PRIMARY_KEY: usize = 0;
    const AUTO_KEY: bool = false;
    const DELETE_RULES: &'static [::strata::DeleteRule] = &[];
    const ASSOCIATIONS: &'static [::strata::AssociationDef] = &[];
    fn set_value(&mut self, _: usize, _: ::strata::Value) -> bool {
        false
    }
    fn value(&self, _: usize) -> ::strata::Value {
        ::strata::Value::Null
    }
    fn value_ref(&self, _: usize) -> ::strata::ValueRef<'_> {
        ::strata::ValueRef::Null
    }
    fn set_auto_key(&mut self, _: i64) -> bool {
        false
    }
    fn set_null(&mut self, _: usize) -> bool {
        false
    }
    fn delete_children<S: ::strata::ReferentialActions>(
        &self,
        _: &mut S,
    ) -> ::strata::Result<()> {
        Ok(())
    }
    fn check_cascade<S: ::strata::ReferentialActions>(
        &self,
        _: &S,
        _: &mut ::std::vec::Vec<(&'static str, ::strata::Value)>,
    ) -> ::strata::Result<()> {
        Ok(())
    }
}

