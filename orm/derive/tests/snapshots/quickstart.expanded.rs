// ---- User ----

impl ::strata::Model for User {
    type Key = i64;
    const NAME: &'static str = "User";
    const TABLE: &'static str = "users";
    const COLUMNS: &'static [::strata::ColumnDef] = &[
        ::strata::ColumnDef::of::<i64>("id").primary_key(),
        ::strata::ColumnDef::of::<String>("username")
            .unique()
            .max_len(80usize)
            .index_table("users#username"),
        ::strata::ColumnDef::of::<String>("email")
            .unique()
            .max_len(120usize)
            .index_table("users#email"),
    ];
    const PRIMARY_KEY: usize = 0usize;
    const AUTO_KEY: bool = <i64 as ::strata::ColumnType>::KIND.is_integer();
    const DELETE_RULES: &'static [::strata::DeleteRule] = &[];
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
                match <String as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.username = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            2usize => {
                match <String as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.email = v;
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
            1usize => ::strata::ColumnType::to_value(&self.username),
            2usize => ::strata::ColumnType::to_value(&self.email),
            _ => ::strata::Value::Null,
        }
    }
    fn value_ref(&self, column: usize) -> ::strata::ValueRef<'_> {
        match column {
            0usize => ::strata::ColumnType::value_ref(&self.id),
            1usize => ::strata::ColumnType::value_ref(&self.username),
            2usize => ::strata::ColumnType::value_ref(&self.email),
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
impl User {
    ///The `id` column, for queries.
    pub const id: ::strata::Column<User, i64> = ::strata::Column::new(0usize);
    ///The `username` column, for queries.
    pub const username: ::strata::Column<User, String> = ::strata::Column::new(1usize);
    ///The `email` column, for queries.
    pub const email: ::strata::Column<User, String> = ::strata::Column::new(2usize);
}
const _: () = assert!(
    < i64 as ::strata::ColumnType > ::INDEXABLE,
    "`id` cannot be a key or indexed: its type's encoding does not order its values"
);
const _: () = assert!(
    < String as ::strata::ColumnType > ::INDEXABLE,
    "`username` cannot be a key or indexed: its type's encoding does not order its values"
);
const _: () = assert!(
    < String as ::strata::ColumnType > ::INDEXABLE,
    "`email` cannot be a key or indexed: its type's encoding does not order its values"
);
impl ::core::fmt::Display for User {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        write!(f, "<{} ", "User")?;
        write!(f, "'{}'", self.username)?;
        write!(f, ">")
    }
}

// ---- Student ----

impl ::strata::Model for Student {
    type Key = i64;
    const NAME: &'static str = "Student";
    const TABLE: &'static str = "students";
    const COLUMNS: &'static [::strata::ColumnDef] = &[
        ::strata::ColumnDef::of::<i64>("id").primary_key(),
        ::strata::ColumnDef::of::<String>("name").max_len(50usize),
        ::strata::ColumnDef::of::<Option<String>>("student_number").max_len(10usize),
        ::strata::ColumnDef::of::<Option<String>>("major").max_len(50usize),
        ::strata::ColumnDef::of::<f64>("gpa").index().index_table("students#gpa"),
    ];
    const PRIMARY_KEY: usize = 0usize;
    const AUTO_KEY: bool = <i64 as ::strata::ColumnType>::KIND.is_integer();
    const DELETE_RULES: &'static [::strata::DeleteRule] = &[];
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
                match <String as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.name = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            2usize => {
                match <Option<String> as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.student_number = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            3usize => {
                match <Option<String> as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.major = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            4usize => {
                match <f64 as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.gpa = v;
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
            2usize => ::strata::ColumnType::to_value(&self.student_number),
            3usize => ::strata::ColumnType::to_value(&self.major),
            4usize => ::strata::ColumnType::to_value(&self.gpa),
            _ => ::strata::Value::Null,
        }
    }
    fn value_ref(&self, column: usize) -> ::strata::ValueRef<'_> {
        match column {
            0usize => ::strata::ColumnType::value_ref(&self.id),
            1usize => ::strata::ColumnType::value_ref(&self.name),
            2usize => ::strata::ColumnType::value_ref(&self.student_number),
            3usize => ::strata::ColumnType::value_ref(&self.major),
            4usize => ::strata::ColumnType::value_ref(&self.gpa),
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
            2usize => {
                self.student_number = ::core::option::Option::None;
                true
            }
            3usize => {
                self.major = ::core::option::Option::None;
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
impl Student {
    ///The `id` column, for queries.
    pub const id: ::strata::Column<Student, i64> = ::strata::Column::new(0usize);
    ///The `name` column, for queries.
    pub const name: ::strata::Column<Student, String> = ::strata::Column::new(1usize);
    ///The `student_number` column, for queries.
    pub const student_number: ::strata::Column<Student, Option<String>> = ::strata::Column::new(
        2usize,
    );
    ///The `major` column, for queries.
    pub const major: ::strata::Column<Student, Option<String>> = ::strata::Column::new(
        3usize,
    );
    ///The `gpa` column, for queries.
    pub const gpa: ::strata::Column<Student, f64> = ::strata::Column::new(4usize);
}
const _: () = assert!(
    < i64 as ::strata::ColumnType > ::INDEXABLE,
    "`id` cannot be a key or indexed: its type's encoding does not order its values"
);
const _: () = assert!(
    < f64 as ::strata::ColumnType > ::INDEXABLE,
    "`gpa` cannot be a key or indexed: its type's encoding does not order its values"
);
impl ::core::fmt::Display for Student {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        write!(f, "<{} ", "Student")?;
        write!(f, "'{}'", self.name)?;
        write!(f, ">")
    }
}

// ---- Person ----

impl ::strata::Model for Person {
    type Key = i64;
    const NAME: &'static str = "Person";
    const TABLE: &'static str = "person";
    const COLUMNS: &'static [::strata::ColumnDef] = &[
        ::strata::ColumnDef::of::<i64>("id").primary_key(),
        ::strata::ColumnDef::of::<String>("name").max_len(50usize),
    ];
    const PRIMARY_KEY: usize = 0usize;
    const AUTO_KEY: bool = <i64 as ::strata::ColumnType>::KIND.is_integer();
    const DELETE_RULES: &'static [::strata::DeleteRule] = &[
        ::strata::DeleteRule {
            child_table: <Address as ::strata::Model>::TABLE,
            column: "person_id",
            rule: ::strata::OnDelete::Cascade,
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
                match <String as ::strata::ColumnType>::from_value(value) {
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
                Address,
            >(Address::person_id.index(), &key, ::strata::OnDelete::Cascade)?;
        Ok(())
    }
    fn check_cascade<S: ::strata::ReferentialActions>(
        &self,
        session: &S,
        seen: &mut ::std::vec::Vec<(&'static str, ::strata::Value)>,
    ) -> ::strata::Result<()> {
        let key = ::strata::Model::key_value(self);
        let _ = (&key, &session, &seen);
        session.check_cascade_of::<Address>(Address::person_id.index(), &key, seen)?;
        Ok(())
    }
}
#[allow(non_upper_case_globals)]
impl Person {
    ///The `id` column, for queries.
    pub const id: ::strata::Column<Person, i64> = ::strata::Column::new(0usize);
    ///The `name` column, for queries.
    pub const name: ::strata::Column<Person, String> = ::strata::Column::new(1usize);
    ///The `Address` rows whose `person_id` refers to this one (one-to-many).
    pub const addresses: ::strata::HasMany<Person, Address> = ::strata::HasMany::new(
        Address::person_id,
    );
}
#[allow(non_upper_case_globals)]
impl Address {
    ///The `Person` row this one's `person_id` refers to.
    pub const person: ::strata::BelongsTo<Address, Person> = ::strata::BelongsTo::new(
        Address::person_id,
    );
}
const _: () = assert!(
    ::strata::__refers_to(< Address as ::strata::Model > ::COLUMNS, Address::person_id
    .index(), "person"),
    "the `fk` of has_many/has_one must be a field of the child marked #[strata(foreign_key = <this model>)]",
);
const _: () = assert!(
    < i64 as ::strata::ColumnType > ::INDEXABLE,
    "`id` cannot be a key or indexed: its type's encoding does not order its values"
);
impl ::core::fmt::Display for Person {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        write!(f, "<{} ", "Person")?;
        write!(f, "'{}'", self.name)?;
        write!(f, ">")
    }
}

// ---- Address ----

impl ::strata::Model for Address {
    type Key = i64;
    const NAME: &'static str = "Address";
    const TABLE: &'static str = "address";
    const COLUMNS: &'static [::strata::ColumnDef] = &[
        ::strata::ColumnDef::of::<i64>("id").primary_key(),
        ::strata::ColumnDef::of::<String>("email").max_len(120usize),
        ::strata::ColumnDef::of::<i64>("person_id")
            .foreign_key(<Person as ::strata::Model>::TABLE)
            .index_table("address#person_id"),
    ];
    const PRIMARY_KEY: usize = 0usize;
    const AUTO_KEY: bool = <i64 as ::strata::ColumnType>::KIND.is_integer();
    const DELETE_RULES: &'static [::strata::DeleteRule] = &[];
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
                match <String as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.email = v;
                        true
                    }
                    ::core::option::Option::None => false,
                }
            }
            2usize => {
                match <i64 as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.person_id = v;
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
            1usize => ::strata::ColumnType::to_value(&self.email),
            2usize => ::strata::ColumnType::to_value(&self.person_id),
            _ => ::strata::Value::Null,
        }
    }
    fn value_ref(&self, column: usize) -> ::strata::ValueRef<'_> {
        match column {
            0usize => ::strata::ColumnType::value_ref(&self.id),
            1usize => ::strata::ColumnType::value_ref(&self.email),
            2usize => ::strata::ColumnType::value_ref(&self.person_id),
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
impl Address {
    ///The `id` column, for queries.
    pub const id: ::strata::Column<Address, i64> = ::strata::Column::new(0usize);
    ///The `email` column, for queries.
    pub const email: ::strata::Column<Address, String> = ::strata::Column::new(1usize);
    ///The `person_id` column, for queries.
    pub const person_id: ::strata::Column<Address, i64> = ::strata::Column::new(2usize);
}
const _: () = assert!(
    ::strata::__same_kind(< i64 as ::strata::ColumnType > ::KIND, < Person as
    ::strata::Model > ::COLUMNS, < Person as ::strata::Model > ::PRIMARY_KEY,),
    "a foreign key must have the type of the primary key it refers to",
);
const _: () = assert!(
    < i64 as ::strata::ColumnType > ::INDEXABLE,
    "`id` cannot be a key or indexed: its type's encoding does not order its values"
);
const _: () = assert!(
    < i64 as ::strata::ColumnType > ::INDEXABLE,
    "`person_id` cannot be a key or indexed: its type's encoding does not order its values"
);
impl ::core::fmt::Display for Address {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        write!(f, "<{} ", "Address")?;
        write!(f, "'{}'", self.email)?;
        write!(f, ">")
    }
}

// ---- Page ----

impl ::strata::Model for Page {
    type Key = i64;
    const NAME: &'static str = "Page";
    const TABLE: &'static str = "page";
    const COLUMNS: &'static [::strata::ColumnDef] = &[
        ::strata::ColumnDef::of::<i64>("id").primary_key(),
        ::strata::ColumnDef::of::<String>("title"),
    ];
    const PRIMARY_KEY: usize = 0usize;
    const AUTO_KEY: bool = <i64 as ::strata::ColumnType>::KIND.is_integer();
    const DELETE_RULES: &'static [::strata::DeleteRule] = &[];
    const ASSOCIATIONS: &'static [::strata::AssociationDef] = &[
        ::strata::AssociationDef {
            through: "tags",
            target: <Tag as ::strata::Model>::TABLE,
        },
    ];
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
                match <String as ::strata::ColumnType>::from_value(value) {
                    ::core::option::Option::Some(v) => {
                        self.title = v;
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
            1usize => ::strata::ColumnType::to_value(&self.title),
            _ => ::strata::Value::Null,
        }
    }
    fn value_ref(&self, column: usize) -> ::strata::ValueRef<'_> {
        match column {
            0usize => ::strata::ColumnType::value_ref(&self.id),
            1usize => ::strata::ColumnType::value_ref(&self.title),
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
impl Page {
    ///The `id` column, for queries.
    pub const id: ::strata::Column<Page, i64> = ::strata::Column::new(0usize);
    ///The `title` column, for queries.
    pub const title: ::strata::Column<Page, String> = ::strata::Column::new(1usize);
    ///The `Tag` rows linked to this one through `tags` (many-to-many).
    pub const tags: ::strata::ManyToMany<Page, Tag> = ::strata::ManyToMany::owned(
        "tags",
    );
}
#[allow(non_upper_case_globals)]
impl Tag {
    ///The `Page` rows linked to this one through `tags` (many-to-many).
    pub const pages: ::strata::ManyToMany<Tag, Page> = ::strata::ManyToMany::backref(
        "tags",
    );
}
const _: () = assert!(
    < i64 as ::strata::ColumnType > ::INDEXABLE,
    "`id` cannot be a key or indexed: its type's encoding does not order its values"
);
impl ::core::fmt::Display for Page {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        write!(f, "<{} ", "Page")?;
        write!(f, "'{}'", self.title)?;
        write!(f, ">")
    }
}

// ---- Tag ----

impl ::strata::Model for Tag {
    type Key = i64;
    const NAME: &'static str = "Tag";
    const TABLE: &'static str = "tag";
    const COLUMNS: &'static [::strata::ColumnDef] = &[
        ::strata::ColumnDef::of::<i64>("id").primary_key(),
        ::strata::ColumnDef::of::<String>("name").unique().index_table("tag#name"),
    ];
    const PRIMARY_KEY: usize = 0usize;
    const AUTO_KEY: bool = <i64 as ::strata::ColumnType>::KIND.is_integer();
    const DELETE_RULES: &'static [::strata::DeleteRule] = &[];
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
                match <String as ::strata::ColumnType>::from_value(value) {
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
impl Tag {
    ///The `id` column, for queries.
    pub const id: ::strata::Column<Tag, i64> = ::strata::Column::new(0usize);
    ///The `name` column, for queries.
    pub const name: ::strata::Column<Tag, String> = ::strata::Column::new(1usize);
}
const _: () = assert!(
    < i64 as ::strata::ColumnType > ::INDEXABLE,
    "`id` cannot be a key or indexed: its type's encoding does not order its values"
);
const _: () = assert!(
    < String as ::strata::ColumnType > ::INDEXABLE,
    "`name` cannot be a key or indexed: its type's encoding does not order its values"
);
impl ::core::fmt::Display for Tag {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        write!(f, "<{} ", "Tag")?;
        write!(f, "'{}'", self.name)?;
        write!(f, ">")
    }
}

