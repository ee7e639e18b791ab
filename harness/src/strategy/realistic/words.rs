//! The small word lists realistic samples are made from: people,
//! organizations, inventories, projects and the sentences people write in
//! memos, purposes and reasons. All printable, none with a line break.

/// Given names, as written and as in a login.
pub(super) const GIVEN: &[(&str, &str)] = &[
    ("Aino", "aino"),
    ("João", "joao"),
    ("Mikko", "mikko"),
    ("Sari", "sari"),
    ("Hanna", "hanna"),
    ("Tomás", "tomas"),
    ("Amara", "amara"),
    ("Priya", "priya"),
    ("Lucía", "lucia"),
    ("Kwame", "kwame"),
    ("Mei", "mei"),
    ("Lars", "lars"),
    ("Fatima", "fatima"),
    ("Mateo", "mateo"),
    ("Elif", "elif"),
    ("Ngozi", "ngozi"),
];

/// Family names, as written and as in a login.
pub(super) const FAMILY: &[(&str, &str)] = &[
    ("Virtanen", "virtanen"),
    ("Silva", "silva"),
    ("Kärkkäinen", "karkkainen"),
    ("Heikkinen", "heikkinen"),
    ("Berg", "berg"),
    ("Lindqvist", "lindqvist"),
    ("Okafor", "okafor"),
    ("Sharma", "sharma"),
    ("García", "garcia"),
    ("Mensah", "mensah"),
    ("Chen", "chen"),
    ("Nilsson", "nilsson"),
    ("Haddad", "haddad"),
    ("Rossi", "rossi"),
    ("Yılmaz", "yilmaz"),
    ("Eze", "eze"),
];

/// Organizations, as named and as their login.
pub(super) const ORGANIZATIONS: &[(&str, &str)] = &[
    ("Nordic Forest Co.", "nordic-forest-co"),
    ("Acme Airlines", "acme-airlines"),
    ("Kainuun Suo Oy", "kainuun-suo"),
    ("Reflorestamento São Paulo Ltda.", "reflorestamento-sp"),
    ("Harbour Logistics Ltd", "harbour-logistics"),
    ("Andes Solar S.A.", "andes-solar"),
    ("GreenGrid Energy", "greengrid-energy"),
    ("Mekong Cookstove Cooperative", "mekong-cookstoves"),
    ("Baltic Shipping AB", "baltic-shipping"),
    ("Sahel Restoration Trust", "sahel-restoration"),
    ("City of Helsinki", "helsinki"),
    ("Lumen Data Centres", "lumen-dc"),
];

/// Inventory names (a slug, as ICR shows them in `full_name`).
pub(super) const INVENTORIES: &[&str] = &[
    "main-holding",
    "retirements",
    "primary",
    "buffer-pool",
    "offsets-2026",
    "sales-2026-q4",
    "client-allocations",
    "corsia-2024",
    "treasury",
    "legacy-2019",
];

/// Project names.
pub(super) const PROJECTS: &[&str] = &[
    "Kainuu Peatland Restoration",
    "Oulu District Heat Pump Retrofit",
    "Mata Atlântica Reforestation",
    "Rajasthan Solar Park",
    "Mekong Clean Cookstoves",
    "Nairobi Landfill Gas Capture",
    "Andean Páramo Conservation",
    "Sumatra Mangrove Blue Carbon",
    "Iowa Cover Crop Programme",
    "Gujarat Wind Farm II",
];

/// Methodologies.
pub(super) const METHODOLOGIES: &[&str] = &[
    "ICR-M-011 Peatland rewetting v2.1",
    "ICR-M-004 Landfill methane capture v3.2",
    "ACM0002 Grid-connected renewable power v22.0",
    "VM0047 Afforestation, reforestation and revegetation v1.0",
    "AMS-II.G Thermal energy efficiency v13.0",
];

/// Transfer memos.
pub(super) const MEMOS: &[&str] = &[
    "Q4 offset purchase, PO 7731",
    "Q3 offset purchase, PO 7598",
    "Annual CORSIA allocation for 2026",
    "Client order #4821",
    "Rebalancing between holding inventories",
    "Buffer contribution for vintage 2024",
    "Sale to Harbour Logistics, contract HL-2026-03",
    "Venda para Reflorestamento São Paulo, contrato 2026-114",
];

/// Retirement purposes.
pub(super) const PURPOSES: &[&str] = &[
    "Offsetting 2025 business travel emissions",
    "CORSIA first phase compliance",
    "Carbon-neutral shipping for customer orders in November",
    "Scope 3 emissions of the annual partner conference",
    "Offsetting the City of Helsinki's 2026 municipal fleet emissions",
    "Voluntary retirement on behalf of our customers",
];

/// Why something was rejected, reversed or revoked.
pub(super) const REASONS: &[&str] = &[
    "Insufficient balance in the source inventory.",
    "The destination account could not be verified.",
    "Duplicate of an earlier request.",
    "Reversed by the registry: payment for PO 7598 was not received.",
    "Verification report for monitoring period 2024 withdrawn by the verifier.",
    "Beneficiary country is required for credits with a corresponding adjustment.",
    "Requested by the inventory owner.",
];

/// What `ping` says.
pub(super) const ZEN: &[&str] = &[
    "Measure twice, retire once.",
    "Keep it logically awesome.",
    "Practicality beats purity.",
    "Speak like a human.",
    "Design for failure.",
    "Approachable is better than simple.",
    "Anything added dilutes everything else.",
];

/// Labels on credit blocks.
pub(super) const LABELS: &[&str] = &["CORSIA", "CCP", "SDG-13", "SDG-15", "Article-6"];

/// Other registries a transfer may go to.
pub(super) const REGISTRIES: &[&str] = &[
    "Andes Carbon Registry",
    "Verra",
    "Gold Standard",
    "Puro.earth",
    "Isometric",
];

/// ICR App slugs.
pub(super) const APPS: &[&str] = &[
    "carbon-ledger",
    "offset-dashboard",
    "retirement-bot",
    "esg-reports",
];

/// Where an app's webhook points.
pub(super) const WEBHOOKS: &[&str] = &[
    "https://carbon-ledger.example.net/icr/webhook",
    "https://hooks.offset-dashboard.example.com/icr",
    "https://esg-reports.example.org/webhooks/icr",
];

/// ISO 3166-1 alpha-2 codes of countries with projects and buyers.
pub(super) const COUNTRIES: &[&str] = &[
    "FI", "SE", "NO", "DE", "FR", "GB", "BR", "CL", "PE", "IN", "KE", "VN", "ID", "US", "JP",
];

/// Fields a project's `changes` may name.
pub(super) const PROJECT_FIELDS: &[&str] = &[
    "name",
    "methodology",
    "status",
    "category",
    "country",
    "url",
];

/// Words for text that has no list of its own.
pub(super) const WORDS: &[&str] = &[
    "credits",
    "offset",
    "registry",
    "retirement",
    "transfer",
    "inventory",
    "project",
    "vintage",
    "forest",
    "solar",
    "review",
    "annual",
    "balance",
    "report",
    "client",
    "holding",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every entry of every list: printable, one line, no stray spaces.
    #[test]
    fn every_word_is_printable_and_trimmed() {
        let pairs = [GIVEN, FAMILY, ORGANIZATIONS];
        let lists = [
            INVENTORIES,
            PROJECTS,
            METHODOLOGIES,
            MEMOS,
            PURPOSES,
            REASONS,
            ZEN,
            LABELS,
            REGISTRIES,
            APPS,
            WEBHOOKS,
            COUNTRIES,
            PROJECT_FIELDS,
            WORDS,
        ];
        let words = lists.iter().flat_map(|list| list.iter().copied()).chain(
            pairs
                .iter()
                .flat_map(|l| l.iter().flat_map(|(a, b)| [*a, *b])),
        );
        for word in words {
            assert!(!word.is_empty() && word.trim() == word, "{word:?}");
            assert!(word.chars().all(|c| !c.is_control()), "{word:?}");
        }
        for (_, slug) in pairs.iter().flat_map(|l| l.iter()) {
            assert!(
                slug.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{slug}"
            );
        }
        for slug in INVENTORIES.iter().chain(APPS) {
            assert!(
                slug.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
                "{slug}"
            );
        }
        for code in COUNTRIES {
            assert!(code.len() == 2 && code.chars().all(|c| c.is_ascii_uppercase()));
        }
    }
}
