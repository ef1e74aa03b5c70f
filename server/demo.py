"""The demo school behind ``make run``: Reception to Year 6, staff, pupils and parents.

Deterministic (seeded) so the printed logins are the same every time. Every
account shares one password, hashed once, so seeding takes a second or two.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.passwords import hash_password
from server.db.models import (
    Conversation,
    GuardianLink,
    Message,
    PolicyAcceptance,
    School,
    SchoolClass,
    StaffClass,
    Student,
    User,
)
from server.messaging.office import office_notice_text
from server.provisioning import create_school
from server.timeutil import utcnow

DEMO_PASSWORD = "homeroom-demo"
CLASSES = ("Reception", "Year 1", "Year 2", "Year 3", "Year 4", "Year 5", "Year 6")
TEACHERS = (
    "Mrs Patel",
    "Mr Okafor",
    "Ms Nowak",
    "Mr Hughes",
    "Mrs García",
    "Miss Begum",
    "Mr Thompson",
)
FIRST_NAMES = (
    "Amir", "Olivia", "Noah", "Aisha", "Leo", "Zofia", "Mohammed", "Isla", "Oscar", "Maya", "Harry",
    "Fatima", "Jack", "Amelia", "Yusuf", "Lily", "Ethan", "Sofia", "Kacper", "Ava", "Ibrahim", "Grace",
    "Lucas", "Hana", "Theo", "Chloe", "Arjun", "Emily", "Daniel", "Zara", "Samuel", "Ella", "Adam",
    "Freya", "Musa", "Ruby", "Oliver", "Alicja", "George", "Priya", "Henry", "Mia", "Kai", "Nadia",
)  # fmt: skip
LAST_NAMES = (
    "Khan", "Smith", "Kowalski", "Ahmed", "Jones", "Nowak", "Hussain", "Brown", "Williams", "Ali",
    "Taylor", "Wilson", "Begum", "Evans", "Lewandowski", "Martínez", "Rahman", "Thomas", "Roberts",
    "Okafor", "Patel", "Walker", "Wright", "Sánchez", "Chowdhury", "Green", "Popescu", "Hall",
)  # fmt: skip
# Most families read English; the rest a spread of the languages UK schools meet most.
PARENT_LANGUAGES = ("en",) * 10 + (
    "es",
    "es",
    "pl",
    "pl",
    "ur",
    "ur",
    "ar",
    "bn",
    "ro",
    "pt",
    "ca",
)


@dataclass
class DemoLogins:
    """What ``python -m server demo`` prints."""

    password: str = DEMO_PASSWORD
    staff: list[tuple[str, str]] = field(default_factory=list)  # (role and name, email)
    parents: list[tuple[str, str]] = field(default_factory=list)  # (description, email)
    pupils: list[tuple[str, str, str]] = field(default_factory=list)  # (description, class code, pupil code)


async def seed_demo(session: AsyncSession, pupils_per_class: int = 25) -> DemoLogins:
    """Create the demo school in an empty database and return its logins."""
    rng = random.Random(2026)
    logins = DemoLogins()
    school, admin = await create_school(
        session,
        name="Riverside Primary School",
        admin_name="Mrs Adebayo (Head)",
        admin_email="head@riverside.example",
        admin_password=DEMO_PASSWORD,
    )
    school.office_phone = "01632 960123"
    school.office_email = "office@riverside.example"
    logins.staff.append(("admin: Mrs Adebayo (Head)", admin.email or ""))
    password_hash = await hash_password(DEMO_PASSWORD)

    year4_teacher: User | None = None
    year4_families: list[tuple[Student, User]] = []
    classes: list[SchoolClass] = []
    for position, name in enumerate(CLASSES, start=1):
        school_class = SchoolClass(
            school_id=school.id,
            name=name,
            class_code=f"RIV{position}{name[-1].upper()}",
            position=position,
        )
        classes.append(school_class)
    session.add_all(classes)
    await session.flush()

    for index, (school_class, teacher_name) in enumerate(zip(classes, TEACHERS, strict=True)):
        email = f"{teacher_name.split()[-1].lower().replace('í', 'i')}@riverside.example"
        teacher = User(
            school_id=school.id,
            role="teacher",
            name=teacher_name,
            email=email,
            password_hash=password_hash,
        )
        session.add(teacher)
        await session.flush()
        session.add(StaffClass(user_id=teacher.id, class_id=school_class.id))
        if index == 4:
            year4_teacher = teacher
        if index in (0, 4):
            logins.staff.append((f"teacher: {teacher_name}, {school_class.name}", email))
    support = User(
        school_id=school.id,
        role="teacher",
        name="Mr Ellis (TA)",
        email="ellis@riverside.example",
        password_hash=password_hash,
    )
    office = User(
        school_id=school.id,
        role="office",
        name="Mrs Doyle (Office)",
        email="office@riverside.example",
        password_hash=password_hash,
    )
    session.add_all([support, office])
    await session.flush()
    session.add_all(StaffClass(user_id=support.id, class_id=c.id) for c in classes[:2])
    logins.staff.append(("office: Mrs Doyle", "office@riverside.example"))

    parent_number = 0
    shown_languages: set[str] = set()
    for class_index, school_class in enumerate(classes):
        names = [rng.choice(FIRST_NAMES) for _ in range(pupils_per_class)]
        if class_index % 2 == 0:  # some classes have two pupils sharing a first name
            names[1] = names[0]
        for pupil_index, first in enumerate(names):
            last = rng.choice(LAST_NAMES)
            user = User(school_id=school.id, role="student", name=first)
            session.add(user)
            await session.flush()
            pupil = Student(
                school_id=school.id,
                class_id=school_class.id,
                user_id=user.id,
                first_name=first,
                last_name=last,
                photo_consent=rng.random() > 0.12,
                la_care=class_index == 3 and pupil_index == 5,
                student_code=f"{school_class.class_code[-2:]}{pupil_index + 1:02d}{rng.randrange(10, 99)}",
                avatar={
                    "body": "round",
                    "eyes": "two",
                    "mouth": "smile",
                    "colour": rng.choice(["teal", "coral", "violet", "sun", "leaf"]),
                    "accessory": "none",
                },
            )
            session.add(pupil)
            await session.flush()
            if class_index == 4 and pupil_index == 0:
                logins.pupils.append(
                    (
                        f"pupil: {first} {last[0]}. in {school_class.name}",
                        school_class.class_code,
                        pupil.student_code,
                    )
                )
            for guardian in range(1 if pupil_index % 3 else 2):
                parent_number += 1
                language = PARENT_LANGUAGES[parent_number % len(PARENT_LANGUAGES)]
                email = f"parent{parent_number}@families.example"
                parent = User(
                    school_id=school.id,
                    role="parent",
                    name=f"{rng.choice(FIRST_NAMES)} {last}",
                    email=email,
                    password_hash=password_hash,
                    language=language,
                    policy_accepted_version=school.policy_version,
                )
                session.add(parent)
                await session.flush()
                session.add(GuardianLink(guardian_id=parent.id, student_id=pupil.id))
                session.add(PolicyAcceptance(user_id=parent.id, version=school.policy_version))
                if (
                    class_index == 4
                    and guardian == 0
                    and language in {"en", "es", "ur", "pl"} - shown_languages
                ):
                    shown_languages.add(language)
                    year4_families.append((pupil, parent))
                    logins.parents.append(
                        (
                            f"parent of {first} {last[0]}., {school_class.name}, reads {language}",
                            email,
                        )
                    )
    await session.flush()
    assert year4_teacher is not None
    await _seed_conversations(session, school, year4_teacher, year4_families)
    return logins


async def _seed_conversations(
    session: AsyncSession, school: School, teacher: User, families: list[tuple[Student, User]]
) -> None:
    """A few parent–teacher conversations: an everyday exchange, a sickness note, a reminder."""
    now = utcnow().replace(second=0, microsecond=0)
    days_ago = now - timedelta(days=2)
    scripts: list[list[tuple[str, str, timedelta]]] = [
        [
            (
                "parent",
                "Hello! {child} loved the science experiment today. What was the book you read?",
                timedelta(),
            ),
            ("teacher", "So glad to hear it! It was The Iron Man by Ted Hughes.", timedelta(minutes=25)),
        ],
        [("parent", "{child} is off sick today with a temperature, sorry.", timedelta(days=1, hours=-8))],
        [
            (
                "teacher",
                "Could you sign and return the museum trip form by Friday? Thank you!",
                timedelta(days=1),
            )
        ],
    ]
    # The parents whose logins the demo prints, so each has something to open.
    for (pupil, parent), script in zip(families, scripts, strict=False):
        conversation = Conversation(
            school_id=school.id,
            student_id=pupil.id,
            guardian_id=parent.id,
            staff_id=teacher.id,
            created_at=days_ago,
        )
        session.add(conversation)
        await session.flush()
        last = days_ago
        for who, text, offset in script:
            last = days_ago + offset
            sender = parent if who == "parent" else teacher
            body = text.format(child=pupil.first_name)
            sickness = "sick" in body
            session.add(
                Message(
                    conversation_id=conversation.id,
                    sender_id=sender.id,
                    text=body,
                    lang="en",
                    topic="sickness" if sickness else None,
                    created_at=last,
                    read_at=last + timedelta(minutes=5) if who == "parent" else None,
                )
            )
            if sickness:
                session.add(
                    Message(
                        conversation_id=conversation.id,
                        text=office_notice_text("sickness", school.office_phone),
                        lang="en",
                        system=True,
                        topic="office:sickness",
                        created_at=last,
                    )
                )
        conversation.last_message_at = last
    await session.flush()
