"""Give the seeded purposes, first statement and retention reasons their Dutch and Romanian text.

A translation an officer already entered is kept; the seeded English stays as it is.
"""

from django.db import migrations

PURPOSES = {
    "marketing_email": {
        "nl": {
            "name": "Marketing per e-mail",
            "description": "Aanbiedingen en campagnes per e-mail sturen, voor ons en voor de "
            "klanten voor wie wij werken.",
            "consent_text": "Ja, stuur mij aanbiedingen en campagnes per e-mail. Ik kan mij op "
            "elk moment afmelden.",
        },
        "ro": {
            "name": "Marketing prin e-mail",
            "description": "Trimiterea de oferte și campanii prin e-mail, pentru noi și pentru "
            "clienții cu care lucrăm.",
            "consent_text": "Da, trimiteți-mi oferte și campanii prin e-mail. Mă pot dezabona "
            "oricând.",
        },
    },
    "newsletter": {
        "nl": {
            "name": "Nieuwsbrief",
            "description": "Onze nieuwsbrief sturen aan wie erom heeft gevraagd.",
            "consent_text": "Ja, stuur mij de nieuwsbrief per e-mail. Ik kan mij op elk moment "
            "afmelden.",
        },
        "ro": {
            "name": "Buletin informativ",
            "description": "Trimiterea buletinului nostru informativ celor care l-au cerut.",
            "consent_text": "Da, trimiteți-mi buletinul informativ prin e-mail. Mă pot dezabona "
            "oricând.",
        },
    },
    "analytics": {
        "nl": {
            "name": "Analyse",
            "description": "Met pseudonieme sleutels meten of onze e-mails worden geopend en "
            "links worden aangeklikt.",
            "consent_text": "Ja, u mag bijhouden of ik uw e-mails open en op de links klik.",
        },
        "ro": {
            "name": "Analiză",
            "description": "Măsurarea, cu chei pseudonime, a deschiderii e-mailurilor noastre și "
            "a clicurilor pe linkuri.",
            "consent_text": "Da, puteți înregistra dacă vă deschid e-mailurile și dau clic pe "
            "linkurile lor.",
        },
    },
    "profiling": {
        "nl": {
            "name": "Profilering voor marketingdoelgroepen",
            "description": "Mensen groeperen op interesses en activiteit om te kiezen wie welke "
            "campagne ontvangt.",
            "consent_text": "Ja, u mag mijn interesses en activiteit gebruiken om te kiezen welke "
            "campagnes ik ontvang.",
        },
        "ro": {
            "name": "Profilare pentru publicul de marketing",
            "description": "Gruparea persoanelor după interese și activitate pentru a alege cine "
            "primește fiecare campanie.",
            "consent_text": "Da, puteți folosi interesele și activitatea mea pentru a alege ce "
            "campanii primesc.",
        },
    },
    "service": {
        "nl": {
            "name": "Uitvoering van de dienst",
            "description": "De dienst leveren waarvoor een klant zich heeft aangemeld, met de "
            "berichten daarover.",
        },
        "ro": {
            "name": "Furnizarea serviciului",
            "description": "Furnizarea serviciului la care s-a abonat un client, inclusiv "
            "mesajele despre acesta.",
        },
    },
    "support": {
        "nl": {
            "name": "Ondersteuning",
            "description": "Vragen beantwoorden die via het contactformulier, per e-mail of "
            "telefonisch binnenkomen.",
        },
        "ro": {
            "name": "Asistență",
            "description": "Răspunsul la întrebările trimise prin formularul de contact, prin "
            "e-mail sau telefonic.",
        },
    },
    "legal": {
        "nl": {
            "name": "Wettelijke verplichtingen",
            "description": "Factuurgegevens bewaren en autoriteiten antwoorden waar de wet dat "
            "vereist.",
        },
        "ro": {
            "name": "Obligații legale",
            "description": "Păstrarea evidențelor de facturare și răspunsul către autorități "
            "atunci când legea o cere.",
        },
    },
}

FIRST_NOTICE = {
    "nl": {
        "title": "Privacyverklaring",
        "summary_of_changes": "Eerste versie.",
        "body": "Wij verwerken persoonsgegevens alleen voor de hieronder genoemde doelen, op de "
        "rechtsgrond die bij elk doel staat, en alleen zo lang als de bewaarregels toestaan.\n\n"
        "U kunt vragen om een kopie van uw gegevens, om correctie, om verwijdering, om een "
        "overdraagbaar bestand, om beperking van de verwerking, of bezwaar maken tegen de "
        "verwerking, via het verzoekformulier op deze site. Wij antwoorden binnen een maand.\n\n"
        "U kunt elke toestemming op elk moment intrekken, even gemakkelijk als u die gaf: elke "
        "e-mail bevat een link naar uw voorkeuren en een afmelding met één klik. Na een afmelding "
        "bewaren wij alleen een versleutelde code van uw e-mailadres, zodat u nooit opnieuw wordt "
        "toegevoegd door een latere lijst of een formulier.",
    },
    "ro": {
        "title": "Declarație de confidențialitate",
        "summary_of_changes": "Prima versiune.",
        "body": "Prelucrăm date cu caracter personal numai în scopurile enumerate mai jos, pe "
        "temeiul juridic indicat pentru fiecare și numai atât timp cât permit regulile de "
        "păstrare.\n\n"
        "Puteți cere o copie a datelor dumneavoastră, corectarea sau ștergerea lor, un export "
        "portabil, restricționarea prelucrării sau vă puteți opune prelucrării, prin formularul "
        "de cereri de pe acest site. Răspundem în termen de o lună.\n\n"
        "Vă puteți retrage oricând orice consimțământ, la fel de ușor cum l-ați dat: fiecare "
        "e-mail conține un link către preferințele dumneavoastră și o dezabonare cu un singur "
        "clic. După o dezabonare păstrăm doar un cod criptat al adresei dumneavoastră de e-mail, "
        "pentru ca o listă sau un formular ulterior să nu vă mai poată adăuga.",
    },
}

RULE_NOTES = {
    "audit_events": (
        "Wie wat heeft gezien en gewijzigd, bewaren wij twee jaar voor de verantwoording "
        "(art. 5 lid 2), lang genoeg om een klacht of een vraag van een autoriteit te "
        "beantwoorden; daarna wordt het verwijderd.",
        "Cine ce a văzut și a modificat se păstrează doi ani pentru responsabilitate "
        "(art. 5 alin. (2)), suficient pentru a răspunde unei plângeri sau unei întrebări a "
        "unei autorități, apoi se șterge.",
    ),
    "completed_requests": (
        "Beantwoorde verzoeken bewaren wij drie jaar voor de verantwoording (art. 5 lid 2); "
        "daarna worden ze verwijderd.",
        "Cererile soluționate se păstrează trei ani pentru responsabilitate (art. 5 alin. (2)), "
        "apoi se șterg.",
    ),
    "contact_form_answered": (
        "Berichten via het contactformulier bewaren wij alleen zo lang als nodig is om ze te "
        "beantwoorden.",
        "Mesajele din formularul de contact se păstrează doar cât este nevoie pentru a le "
        "răspunde.",
    ),
    "contact_form_unanswered": (
        "Een bericht via het contactformulier dat niemand als beantwoord heeft gemarkeerd, "
        "verdwijnt toch na een jaar.",
        "Un mesaj din formularul de contact pe care nimeni nu l-a marcat ca rezolvat se șterge "
        "oricum după un an.",
    ),
    "expired_exports": (
        "Inzage- en overdraagbaarheidsbestanden verdwijnen zodra hun link verloopt.",
        "Exporturile de acces și de portabilitate se șterg imediat ce linkul lor expiră.",
    ),
    "import_reports": (
        "Het verslag van de regels die een import weigerde, bewaren wij 30 dagen, lang genoeg "
        "voor de klant om de lijst te verbeteren; daarna wordt het verwijderd.",
        "Raportul rândurilor refuzate la un import se păstrează 30 de zile, suficient pentru ca "
        "clientul să își corecteze lista, apoi se șterge.",
    ),
    "inactive_business_contacts": (
        "Contactpersonen bij klanten en partners bewaren wij zolang wij met hun organisatie "
        "werken: drie jaar na hun laatste eigen activiteit, of nadat wij hun gegevens "
        "verkregen als zij nooit actief waren; daarna worden ze verwijderd.",
        "Persoanele de contact de la clienți și parteneri se păstrează cât timp lucrăm cu "
        "organizația lor: trei ani de la ultima lor activitate proprie sau de la obținerea "
        "datelor, dacă nu au avut niciuna, apoi se șterg.",
    ),
    "inactive_customers_subscribers": (
        "Klantaccounts en nieuwsbriefabonnees die twee jaar niet actief waren, worden verwijderd.",
        "Conturile clienților și abonații la buletinul informativ inactivi timp de doi ani se "
        "șterg.",
    ),
    "inactive_prospects": (
        "Prospects uit openbare bronnen of aangeleverde lijsten die nooit klant werden, worden "
        "twee jaar na hun laatste eigen activiteit verwijderd, of twee jaar nadat wij hun "
        "gegevens verkregen als zij nooit actief waren.",
        "Clienții potențiali din surse publice sau din liste furnizate care nu au devenit "
        "clienți se șterg la doi ani de la ultima lor activitate proprie sau, dacă nu au avut "
        "niciuna, la doi ani de la obținerea datelor.",
    ),
    "invoices": (
        "Factuurgegevens: hoogstens drie jaar na de vervaldatum van de factuur.",
        "Evidențele de facturare: cel mult trei ani de la data scadentă a facturii.",
    ),
    "tracking_events": (
        "Openingen en klikken, met hun land, bewaren wij een jaar om campagnes te vergelijken; "
        "daarna worden ze verwijderd. Afleveringen, bounces, klachten en afmeldingen blijven "
        "bij de geschiedenis van de campagne.",
        "Deschiderile și clicurile, cu țara lor, se păstrează un an pentru a compara campaniile, "
        "apoi se șterg; livrările, respingerile, reclamațiile și dezabonările rămân în istoricul "
        "campaniei.",
    ),
    "unverified_requests": (
        "Verzoeken die nooit via hun e-maillink zijn bevestigd.",
        "Cereri care nu au fost niciodată confirmate prin linkul lor de e-mail.",
    ),
}


def _fill(row, texts: dict) -> None:
    merged = dict(row.translations or {})
    for code, fields in texts.items():
        merged[code] = {**fields, **{k: v for k, v in merged.get(code, {}).items() if v}}
    row.translations = merged
    row.save(update_fields=["translations"])


def seed(apps, schema_editor):
    Purpose = apps.get_model("privacy", "Purpose")
    NoticeVersion = apps.get_model("privacy", "NoticeVersion")
    RetentionRule = apps.get_model("privacy", "RetentionRule")
    for purpose in Purpose.objects.filter(code__in=PURPOSES):
        _fill(purpose, PURPOSES[purpose.code])
    notice = NoticeVersion.objects.filter(version="1.0", summary_of_changes="First version.")
    for row in notice:
        _fill(row, FIRST_NOTICE)
    for rule in RetentionRule.objects.filter(kind__in=RULE_NOTES):
        dutch, romanian = RULE_NOTES[rule.kind]
        _fill(rule, {"nl": {"note": dutch}, "ro": {"note": romanian}})


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0024_wording_per_language"),
        ("privacy", "0023_contact_retention_rules"),
        ("crm", "0009_import_report_retention_rule"),
        ("campaigns", "0012_tracking_retention_rule"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
